"""flowengine: call-scenario engine for call centres.

The core package holds the contracts every other part rests on: the scenario
model and its JSON Schema, the expression language, the node registry, the
call interface a telephony backend implements, the event stream, the
validator and the interpreter.
"""

__version__ = "0.1.0"
