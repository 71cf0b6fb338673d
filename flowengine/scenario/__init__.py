"""Scenario documents: the pydantic model, loading with precise errors,
migrations between schema versions, and the compiled runtime form."""
