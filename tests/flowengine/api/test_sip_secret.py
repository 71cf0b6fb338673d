"""An operator's SIP phone password is kept by the service but never shown:
not in the operator, not in the centre document; a document read and sent
back keeps it, and ``sip_secret: null`` removes it."""

from __future__ import annotations

from typing import Any

V1 = "/api/v1"
SECRET = "horse-battery-staple"


def test_an_operators_sip_secret_is_stored_but_never_shown(api: Any) -> None:
    r = api.call("PUT", f"{V1}/operators/930", json={"name": "Anna", "extension": "930", "sip_secret": SECRET})
    assert r.status_code == 200, r.text
    assert SECRET not in r.text
    centre = api.call("GET", f"{V1}/centre", role="supervisor")
    assert centre.status_code == 200 and SECRET not in centre.text and "sip_secret" not in centre.text
    assert "930" in [op["id"] for op in centre.json()["centre"]["operators"]]
    for url in (f"{V1}/operators", f"{V1}/operators/930"):
        assert SECRET not in api.call("GET", url).text

    # what was read (without the secret) goes back: the secret stays
    body = centre.json()
    r = api.call("PUT", f"{V1}/centre", json={"revision": body["revision"], "centre": body["centre"]})
    assert r.status_code == 200, r.text
    assert SECRET not in r.text
    service = api.client.app.state.service
    assert service.centre.operator("930").sip_secret == SECRET

    # an explicit null removes it
    r = api.call("PUT", f"{V1}/operators/930", json={"name": "Anna", "extension": "930", "sip_secret": None})
    assert r.status_code == 200, r.text
    assert service.centre.operator("930").sip_secret is None
