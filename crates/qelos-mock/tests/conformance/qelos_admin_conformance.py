"""Conformance checks: the official, unmodified Python administrator client (`qelos-sdk`)
against qelos-mock's administrator routes.

Usage: python qelos_admin_conformance.py <mock base url>
Prints "admin conformance: ok <n> checks" and exits 0 when every check holds.
"""

import asyncio
import base64
import sys

import httpx
from qelos_sdk import QelosSDK, QelosSDKOptions
from qelos_sdk.administrator import QelosAdministratorSDK

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


async def signed_in(url, username, password):
    admin = QelosAdministratorSDK(QelosSDKOptions(app_url=url))
    await admin.authentication.oauth_signin({"username": username, "password": password})
    return admin


async def main(url):
    async with httpx.AsyncClient() as http:
        seed = (await http.get(f"{url}/__mock/seed")).json()
    user_id = seed["user"]["id"]
    admin = await signed_in(url, "test@test.com", "admin")
    plain = await signed_in(url, "user@test.com", "user1234")

    # The official blueprints.getList() / getBlueprint() (user SDK) no longer get 404.
    listed = await plain.blueprints.get_list()
    check(sorted(b["identifier"] for b in listed) == ["audit", "products"], "blueprints.get_list")
    check("permissions" not in listed[0], "plain users get the viewer fields")

    # users + roles
    users = await admin.users.get_list({"roles": ["admin"]})
    check([u["username"] for u in users] == ["test@test.com"], "users.get_list by role")
    created = await admin.users.create({"username": "py@test.com", "password": "pypass12", "roles": ["user"],
                                        "firstName": "Py", "lastName": "Thon"})
    check(created["fullName"] == "Py Thon", "users.create")
    got = await admin.users.get_user(created["_id"])
    check(got["username"] == "py@test.com", "users.get_user")
    upd = await admin.users.update(created["_id"], {"roles": ["user", "editor"]})
    check(upd["roles"] == ["user", "editor"], "users.update")
    await admin.users.set_encrypted_data(created["_id"], "k1", {"a": 1})
    check(await admin.users.get_encrypted_data(created["_id"], "k1") == {"a": 1}, "users encrypted data")
    check(sorted(await admin.roles.get_existing_roles()) == ["admin", "editor", "user"], "roles")
    res = await admin.users.remove(created["_id"])
    check(res.status_code == 200, "users.remove")
    await expect_error(admin.users.get_user(created["_id"]), "removed user", "user not exists")
    await expect_error(plain.users.get_list(), "plain user lists users", "you are not privileged.")
    await expect_error(plain.roles.get_existing_roles(), "plain user lists roles", "you are not privileged.")

    # admin workspaces
    every = await admin.admin_workspaces.get_list()
    check(len(every) == 2, "admin_workspaces.get_list")
    await admin.admin_workspaces.set_encrypted_data(every[0]["_id"], "", {"w": True})
    check(await admin.admin_workspaces.get_encrypted_data(every[0]["_id"]) == {"w": True}, "workspace encrypted data")
    await expect_error(plain.admin_workspaces.get_list(), "plain user lists every workspace")

    # manage blueprints
    bp = await admin.manage_blueprints.create({"identifier": "tasks", "name": "Tasks", "permissionScope": "user",
                                               "permissions": [], "properties": {"title": {"title": "Title", "type": "string"}}})
    check(bp["identifier"] == "tasks", "manage_blueprints.create")
    check((await admin.manage_blueprints.get_blueprint("tasks"))["name"] == "Tasks", "manage_blueprints.get_blueprint")
    check(len(await admin.manage_blueprints.get_list()) == 3, "manage_blueprints.get_list")
    check((await admin.manage_blueprints.update("tasks", {"name": "Todo"}))["name"] == "Todo", "manage_blueprints.update")
    check((await admin.manage_blueprints.remove("tasks")).status_code == 200, "manage_blueprints.remove")
    await expect_error(plain.manage_blueprints.create({"identifier": "x"}), "plain user creates a blueprint")

    # configurations
    conf = await admin.manage_configurations.create({"key": "py-conf", "public": True, "metadata": {"a": 1}})
    check(conf["key"] == "py-conf", "manage_configurations.create")
    check(len(await admin.manage_configurations.get_list("ignored")) == 1, "manage_configurations.get_list")
    check((await admin.manage_configurations.get_configuration("py-conf"))["metadata"] == {"a": 1}, "get_configuration")
    check((await admin.manage_configurations.update("py-conf", {"metadata": {"a": 2}}))["metadata"] == {"a": 2}, "update")
    await expect_error(admin.manage_configurations.create({"key": "py-conf", "metadata": {}}), "duplicate key", "already exists")
    await expect_error(plain.manage_configurations.get_list("x"), "plain user lists configurations", "you are not authorized")
    check((await admin.manage_configurations.remove("py-conf"))["key"] == "py-conf", "manage_configurations.remove")

    # plugins, created through the admin API and served by the gateway's callback
    plugin = await admin.manage_plugins.create({"name": "py-plugin", "apiPath": "py-plugin",
                                                "proxyUrl": "http://127.0.0.1:9/api", "callbackUrl": "http://127.0.0.1:9/cb",
                                                "token": "a static token of 32 bytes......"})
    check("token" not in plugin, "manage_plugins.create hides the token")
    check((await admin.manage_plugins.get_by_id(plugin["_id"]))["name"] == "py-plugin", "manage_plugins.get_by_id")
    check(len(await admin.manage_plugins.get_list()) == 1, "manage_plugins.get_list")
    check((await admin.manage_plugins.update(plugin["_id"], {"description": "d"}))["description"] == "d", "update")
    back = "https://app.example/after-login"
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{url}/api/plugins/{plugin['_id']}/callback",
                           params={"returnUrl": base64.b64encode(back.encode()).decode()})
    check(r.status_code == 200 and r.text == "", "callback to an unreachable plugin: Qelos's empty 200")
    await expect_error(plain.manage_plugins.create({"name": "nope"}), "plain user creates a plugin")
    await admin.manage_plugins.remove(plugin["_id"])
    check(await admin.manage_plugins.get_list() == [], "manage_plugins.remove")

    # integration sources, integrations, lambdas
    src = await admin.integration_sources.create({"name": "aws", "kind": "aws", "metadata": {"region": "eu"}})
    check((await admin.integration_sources.get_integration_source(src["_id"]))["kind"] == "aws", "get_integration_source")
    check(len(await admin.integration_sources.get_list({"kind": "aws"})) == 1, "integration_sources.get_list")
    check((await admin.integration_sources.update(src["_id"], {"name": "AWS"}))["name"] == "AWS", "integration_sources.update")
    fn = await admin.manage_lambdas.create(src["_id"], {"name": "py-fn", "runtime": "python3.12"})
    check(fn["name"] == "py-fn", "manage_lambdas.create")
    check([f["name"] for f in await admin.manage_lambdas.get_list(src["_id"])] == ["py-fn"], "manage_lambdas.get_list")
    check((await admin.manage_lambdas.get_lambda(src["_id"], "py-fn"))["runtime"] == "python3.12", "get_lambda")
    check((await admin.manage_lambdas.update(src["_id"], "py-fn", {"description": "x"}))["description"] == "x", "update")
    await admin.manage_lambdas.remove(src["_id"], "py-fn")
    await expect_error(admin.manage_lambdas.get_lambda(src["_id"], "py-fn"), "removed lambda")
    integ = await admin.integrations.create({"trigger": {"source": src["_id"]}, "target": {"source": src["_id"]}})
    check(integ["active"] is False, "integrations.create")
    check(len(await admin.integrations.get_list({"trigger.source": src["_id"]})) == 1, "integrations.get_list")
    check((await admin.integrations.update(integ["_id"], {"active": True}))["active"] is True, "integrations.update")
    check((await admin.integrations.get_integration(integ["_id"]))["_id"] == integ["_id"], "integrations.get_integration")
    check((await admin.integrations.remove(integ["_id"])).status_code == 200, "integrations.remove")
    check((await admin.integration_sources.remove(src["_id"])).status_code == 200, "integration_sources.remove")
    await expect_error(plain.integrations.get_list(), "plain user lists integrations")

    # components
    comp = await admin.components.create({"identifier": "py-comp", "componentName": "PyComp", "content": "<template/>"})
    check((await admin.components.get_component(comp["_id"]))["identifier"] == "py-comp", "components.get_component")
    check(len(await admin.components.get_list()) == 1, "components.get_list")
    check((await admin.components.update(comp["_id"], {"description": "d"}))["description"] == "d", "components.update")
    check((await admin.components.remove(comp["_id"]))["identifier"] == "py-comp", "components.remove")
    await expect_error(plain.components.get_list(), "plain user lists components")

    # drafts: get_list calls GET /api/drafts without a context, which Qelos answers 404
    await admin.drafts.set_draft({"contextType": "page", "contextId": "p1", "contextData": {"x": 1}})
    check((await admin.drafts.get_draft("page", "p1"))["contextData"] == {"x": 1}, "drafts.get_draft")
    await expect_error(admin.drafts.get_list(), "drafts.get_list hits Qelos's context route", "draft not found")
    await admin.drafts.remove("page", "p1")
    await expect_error(admin.drafts.get_draft("page", "p1"), "drafts.remove", "draft not found")

    # events (admin module and the 4.0 top-level module)
    await admin.events.dispatch({"source": "py", "kind": "tests", "eventName": "ran", "description": "py ran"})
    page = await admin.events.get_list({"kind": "tests"})
    check(page["total"] == 1 and page["events"][0]["eventName"] == "ran", "events.get_list (page object)")
    check((await admin.events.get_event(page["events"][0]["_id"]))["source"] == "py", "events.get_event")
    user_sdk = QelosSDK(QelosSDKOptions(app_url=url))
    await user_sdk.authentication.oauth_signin({"username": "test@test.com", "password": "admin"})
    listed = await user_sdk.events.list(kind="tests")
    check([e["eventName"] for e in listed] == ["ran"], "QelosSDK.events.list unwraps the page")
    await expect_error(plain.events.get_list(), "plain user lists events")

    # permissions (4.0): no Qelos service routes /api/permissions
    await expect_error(user_sdk.permissions.check("x"), "permissions.check gets Qelos's 404", "api not found")

    # payments
    plan = await admin.manage_payments.create_plan({"name": "Py plan", "monthlyPrice": 5})
    check(plan["isActive"] is True, "create_plan")
    check(len(await admin.manage_payments.get_plans({"isActive": "true"})) == 1, "get_plans")
    check((await admin.manage_payments.get_plan(plan["_id"]))["name"] == "Py plan", "get_plan")
    check((await admin.manage_payments.update_plan(plan["_id"], {"yearlyPrice": 50}))["yearlyPrice"] == 50, "update_plan")
    coupon = await admin.manage_payments.create_coupon({"code": "PY5", "discountType": "fixed", "discountValue": 5})
    check((await admin.manage_payments.get_coupon(coupon["_id"]))["code"] == "PY5", "get_coupon")
    check(len(await admin.manage_payments.get_coupons()) == 1, "get_coupons")
    check((await admin.manage_payments.update_coupon(coupon["_id"], {"isActive": False}))["isActive"] is False, "update_coupon")
    check((await admin.manage_payments.delete_coupon(coupon["_id"]))["code"] == "PY5", "delete_coupon")
    async with httpx.AsyncClient() as http:
        token = admin.authentication.access_token
        sub = (await http.post(f"{url}/api/subscriptions", headers={"authorization": f"Bearer {token}"},
                               json={"planId": plan["_id"], "billingCycle": "monthly",
                                     "billableEntityType": "user", "billableEntityId": user_id})).json()
    check(len(await admin.manage_payments.get_subscriptions({"billableEntityId": user_id})) == 1, "get_subscriptions")
    check((await admin.manage_payments.get_subscription(sub["_id"]))["status"] == "pending", "get_subscription")
    check((await admin.manage_payments.cancel_subscription(sub["_id"]))["status"] == "canceled", "cancel_subscription")
    check(await admin.manage_payments.get_invoices() == [], "get_invoices")
    await expect_error(admin.manage_payments.get_invoice("000000000000000000000000"), "get_invoice", "invoice not found")
    check((await admin.manage_payments.delete_plan(plan["_id"]))["name"] == "Py plan", "delete_plan")
    await expect_error(plain.manage_payments.get_plans(), "plain user lists plans", "insufficient permissions")

    # impersonation: the admin acts as the plain user
    admin.impersonate_user(user_id)
    await admin.drafts.set_draft({"contextType": "as-user", "contextData": {}})
    admin.clear_impersonation()
    mine = await plain.drafts.get_draft("as-user", "")
    check(mine["user"] == user_id, "impersonate_user: the draft belongs to the user")

    print(f"admin conformance: ok {CHECKS} checks")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
