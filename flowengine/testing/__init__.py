"""Running scenarios under test: scripted callers (`script`), virtual phones
(`phones`), the one-call harness and its trace (`harness`, `tracefmt`),
scenario test-case files (`cases`), and whole-scenario traffic simulation
(`simulation`). The simulator backend is reached through the backend registry,
never imported directly."""
