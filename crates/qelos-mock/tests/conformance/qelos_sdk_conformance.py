"""Conformance checks: the official, unmodified Python client `qelos-sdk` against qelos-mock.

Usage: python qelos_sdk_conformance.py <mock base url>
Prints "conformance: ok <n> checks" and exits 0 when every check holds.
"""

import asyncio
import sys

import httpx
from qelos_sdk import QelosAPIError, QelosSDK, QelosSDKOptions

CHECKS = 0


def check(condition, what):
    global CHECKS
    if not condition:
        raise AssertionError(what)
    CHECKS += 1


async def expect_error(coro, what, contains=None):
    try:
        await coro
    except Exception as err:  # the SDK raises QelosAPIError or plain Exception
        if contains is not None:
            check(contains in str(err), f"{what}: error mentions {contains!r} (got {err!r})")
        else:
            check(True, what)
        return
    raise AssertionError(f"{what}: expected an error")


async def main(url):
    async with httpx.AsyncClient() as http:
        seed = (await http.get(f"{url}/__mock/seed")).json()
    admin_id = seed["admin"]["id"]
    beta = next(w for w in seed["workspaces"] if w["name"] == "Beta Labs")

    # OAuth sign-in and /api/me
    sdk = QelosSDK(QelosSDKOptions(app_url=url))
    signed = await sdk.authentication.oauth_signin({"username": "test@test.com", "password": "admin"})
    check("token" in signed["payload"] and "refreshToken" in signed["payload"], "oauth signin returns a pair")
    check("_id" not in signed["payload"]["user"], "signin user has no _id")
    me = await sdk.authentication.get_logged_in_user()
    check(me["_id"] == admin_id, "me._id is the admin")
    check(me["username"] == "test@test.com", "me.username")
    check(me["workspace"]["name"] == "Acme%20Inc", "me.workspace.name stays URI-encoded (Python does not decode)")
    check(set(me["workspace"]) >= {"_id", "name", "roles", "labels"}, "me.workspace shape")

    # Workspaces: list, create, get, activate
    listed = await sdk.workspaces.get_list()
    check([w["name"] for w in listed] == ["Acme Inc", "Beta Labs"], "workspaces list")
    check("labels" not in listed[0] and "members" in listed[0], "list items have members, no labels")
    created = await sdk.workspaces.create({"name": "Py WS", "labels": ["py"]})
    check(created["name"] == "Py WS", "workspace created")
    got = await sdk.workspaces.get_workspace(created["_id"])
    check(got["labels"] == ["py"], "workspace get")
    await expect_error(sdk.workspaces.activate(beta["id"]), "activate with a bearer is refused", "failed to activate workspace")

    cookie_sdk = QelosSDK(QelosSDKOptions(app_url=url))
    raw = await cookie_sdk.authentication.signin({"username": "test@test.com", "password": "admin"})
    set_cookie = raw["headers"]["set-cookie"]
    check(set_cookie.startswith("qlt_0=") and "Path=/api" in set_cookie, "cookie signin sets qlt_0")
    session = set_cookie.split(";")[0]

    async def cookie_headers(_url, _force=False):
        return {"cookie": session}

    by_cookie = QelosSDK(QelosSDKOptions(app_url=url, extra_headers=cookie_headers))
    activated = await by_cookie.workspaces.activate(beta["id"])
    check(activated["name"] == "Beta Labs", "activate with the session cookie")

    # Refresh and refused reuse
    old_refresh = signed["payload"]["refreshToken"]
    refreshed = await sdk.authentication.refresh_token()
    check(refreshed["payload"]["refreshToken"] != old_refresh, "refresh rotates")
    check(set(refreshed["payload"]["user"]) == {"email", "roles"}, "refresh user has email and roles only")
    await expect_error(sdk.authentication.refresh_token(old_refresh), "a reused refresh token is refused")
    me_after = await sdk.authentication.get_logged_in_user()
    check(me_after["workspace"]["name"] == "", "after refresh the workspace name is empty")

    # API tokens
    made = await sdk.authentication.create_api_token({"nickname": "py", "expiresAt": "2099-01-01T00:00:00.000Z"})
    check(made["token"].startswith("ql_") and len(made["token"]) == 67, "api token format")
    tokens = await sdk.authentication.list_api_tokens()
    check(tokens[0]["tokenPrefix"] == made["token"][:8], "api token listed by prefix")
    by_key = QelosSDK(QelosSDKOptions(app_url=url, api_token=made["token"]))
    key_me = await by_key.authentication.get_logged_in_user()
    check(key_me["username"] == "test@test.com", "x-api-key authenticates")

    # Entities
    products = sdk.entities("products")
    entity = await products.create({"name": "Py", "price": 5})
    check(entity["name"] == "Py" and entity["metadata"]["price"] == 5, "entity created flat")
    check("_id" not in entity and entity["id"] == entity["identifier"], "entity id, no _id")
    one = await products.get_entity(entity["id"])
    check(one["price"] == 5, "entity get")
    listing = await products.get_list()
    check(any(e["id"] == entity["id"] for e in listing), "entity listed")
    updated = await products.update(entity["id"], {"price": 6})
    check(updated["price"] == 6 and updated["name"] == "Py", "entity updated (merged)")
    count = await products.count()
    check(count == 1, "entity count")
    await products.remove(entity["id"])
    await expect_error(products.get_entity(entity["id"]), "removed entity is gone", "entity not found")

    for client in (sdk, cookie_sdk, by_cookie, by_key):
        await client.close()
    print(f"conformance: ok {CHECKS} checks")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/")))
