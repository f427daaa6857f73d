"""
Schemathesis hooks for test/integration/api/schemathesis.test.ts.

The run must not lock itself out: a case whose path names one of the run's own users (PUT/DELETE
/api/v1/users/{name}) or one of their role assignments (DELETE /api/v1/rbac/role_assignments/
{user}:{role}) would take away the role or the tokens the run authenticates with, and every later
case would then be a declared 401/403 that passes without testing anything. Schemathesis reuses
values it saw in responses (GET /api/v1/users lists these users), so such a case is not far-fetched.
The hook points those cases at a user that does not exist instead; everything else is sent as
generated.
"""
import os
from urllib.parse import unquote

import schemathesis

PROTECTED = [u for u in os.environ.get("SQUALL_FUZZ_PROTECTED_USERS", "").split(",") if u]


def _protected(value):
    # Values taken from earlier responses can arrive already percent-encoded (`user%3Arole`).
    text = unquote(unquote(str(value)))
    return any(text == user or text.startswith(user + ":") for user in PROTECTED)


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    for name, value in list(params.items()):
        if _protected(value):
            params[name] = "not-the-fuzzing-user"
