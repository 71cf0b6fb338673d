"""The REST API behind `flowengine serve` (FastAPI).

`create_app(settings)` builds the application around one `Service` (the
engine, the simulator backend, the ACD and the stores); one router module per
resource lives in `routers/`, request and response models in `schemas`,
errors leave as RFC 9457 problem+json (`problems`).
"""

from flowengine.api.app import create_app
from flowengine.api.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
