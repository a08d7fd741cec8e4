"""Conformance checks: the official, unmodified Python client (`qelos-sdk`) against the
qelos-mock endpoints added for the user payments, AI agents, blueprint charts, the social
callback URL and impersonation beyond the admin routes.

Usage: python payments_ai_charts_conformance.py <mock base url>
Prints "payments-ai-charts conformance: ok <n> checks" and exits 0 when every check holds.
"""

import asyncio
import sys

import httpx
from qelos_sdk import QelosSDKOptions
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
    sdk = QelosAdministratorSDK(QelosSDKOptions(app_url=url))
    await sdk.authentication.oauth_signin({"username": username, "password": password})
    return sdk


async def main(url, ai_source):
    async with httpx.AsyncClient() as http:
        seed = (await http.get(f"{url}/__mock/seed")).json()
    user_id = seed["user"]["id"]
    admin = await signed_in(url, "test@test.com", "admin")
    user = await signed_in(url, "user@test.com", "user1234")

    # Social callback URL
    check(user.authentication.get_social_callback_url("github") == f"{url}/api/auth/github/callback",
          "get_social_callback_url")

    # Blueprints: definitions and charts computed from the entities
    check((await user.blueprints.get_blueprint("products"))["identifier"] == "products", "get_blueprint")
    products = admin.blueprints.entities_of("products")
    for name, price, category in [("a", 3, "tools"), ("b", 4, "tools"), ("c", 5, "toys")]:
        await products.create({"metadata": {"name": name, "price": price, "category": category}})
    pie = await admin.blueprints.get_pie_chart("products", {"x": "category"})
    check(pie["series"][0]["data"] == [{"value": 2, "name": "tools"}, {"value": 1, "name": "toys"}], "get_pie_chart")
    bar = await admin.blueprints.get_chart("products", "bar", {"x": "category"})
    check(bar["xAxis"]["data"] == ["tools", "toys"] and bar["series"][0]["data"] == [2, 1], "get_chart")
    total = await admin.blueprints.get_sum("products", "price")
    check(total["sum"] == 12, "get_sum")
    grouped = await admin.blueprints.get_sum("products", "price", "category")
    check(grouped["groups"] == [{"group": "tools", "sum": 7}, {"group": "toys", "sum": 5}], "get_sum grouped")
    check((await admin.blueprints.get_count("products", {"category": "toys"}))["count"] == 1, "get_count")
    await expect_error(admin.blueprints.get_chart("products", "line", {}), "chart without x", "xAxis is required")
    await expect_error(admin.blueprints.get_sum("products", "name"), "sum of a string",
                       "sum property must be of type number")

    # Payments: public plans, coupon, checkout, the fake provider, subscription, invoices
    plan = await admin.manage_payments.create_plan({"name": "Py Pro", "monthlyPrice": 20, "yearlyPrice": 200})
    await admin.manage_payments.create_coupon({"code": "PYHALF", "discountType": "percentage", "discountValue": 50})
    plans = await user.payments.get_plans()
    check([p["name"] for p in plans] == ["Py Pro"], "payments.get_plans (public)")
    check((await user.payments.get_plan(plan["_id"]))["monthlyPrice"] == 20, "payments.get_plan")
    coupon = await user.payments.validate_coupon("PYHALF", plan["_id"])
    check(coupon["discountValue"] == 50, "payments.validate_coupon")
    await expect_error(user.payments.validate_coupon("NOPE"), "unknown coupon", "coupon not found or inactive")
    check(await user.payments.get_my_subscription() is None, "no subscription yet")
    session = await user.payments.checkout({"planId": plan["_id"], "billingCycle": "monthly",
                                            "couponCode": "PYHALF"})
    check(session["checkoutUrl"].endswith(session["subscriptionId"]), "payments.checkout")
    async with httpx.AsyncClient() as http:
        paid = (await http.get(session["checkoutUrl"])).json()
    check(paid["invoice"]["amount"] == 10, "the fake provider charged the discounted price")
    mine = await user.payments.get_my_subscription()
    check(mine["_id"] == session["subscriptionId"] and mine["status"] == "active", "payments.get_my_subscription")
    invoices = await user.payments.get_invoices({"status": "paid"})
    check(len(invoices) == 1, "payments.get_invoices")
    check((await user.payments.get_invoice(invoices[0]["_id"]))["amount"] == 10, "payments.get_invoice")
    await expect_error(user.payments.checkout({"planId": plan["_id"], "billingCycle": "monthly"}),
                       "second checkout", "An active subscription already exists")
    canceled = await user.payments.cancel_subscription(session["subscriptionId"])
    check(canceled["status"] == "canceled", "payments.cancel_subscription")

    # AI agents: an admin makes one through the integrations API, users chat with it
    agent = await admin.integrations.create({
        "active": True,
        "trigger": {"source": ai_source, "operation": "chatCompletion", "details": {"name": "Py agent"}},
        "target": {"source": ai_source, "operation": "chatCompletion", "details": {"model": "m"}},
    })
    listed = await admin.ai.agents.list()
    check([a["name"] for a in listed] == ["Py agent"], "ai.agents.list")
    got = await admin.ai.agents.get(agent["_id"])
    check(got["model"] == "m" and got["active"] is True, "ai.agents.get")
    await expect_error(user.ai.agents.list(), "plain users cannot list agents", "Failed to list agents")
    answer = await user.ai.agents.chat(agent["_id"], "hello agent", {"history": [{"role": "assistant", "content": "hi"}]})
    check(answer["choices"][0]["message"]["content"] == "Echo: hello agent", "ai.agents.chat")
    thread = await user.ai.threads.create({"integration": agent["_id"]})
    await user.ai.agents.chat_in_thread(agent["_id"], thread["_id"], "kept")
    kept = await user.ai.threads.get_one(thread["_id"])
    check([m["content"] for m in kept["messages"]] == ["kept", "Echo: kept"], "ai.agents.chat_in_thread")
    stream = await user.ai.agents.stream_chat(agent["_id"], "x y")
    events = [e async for e in stream]
    text = "".join(e.get("content", "") for e in events if e.get("type") == "chunk")
    check(text == "Echo: x y" and events[-1]["type"] == "done", "ai.agents.stream_chat")
    await expect_error(user.ai.agents.chat("0123456789abcdef01234567", "x"), "unknown agent", "not found")

    # Impersonation reaches the services behind the gateway: the thread becomes the user's
    admin.impersonate_user(user_id)
    me = await admin.authentication.get_logged_in_user()
    check(me["_id"] == user_id, "impersonated /api/me")
    made = await admin.ai.threads.create({"integration": agent["_id"], "title": "as user"})
    admin.clear_impersonation()
    check(made["user"] == user_id, "impersonated AI thread belongs to the user")
    check(any(t["_id"] == made["_id"] for t in await user.ai.threads.list()), "the user sees it")
    admin.impersonate_user("000000000000000000000000")
    await expect_error(admin.authentication.get_logged_in_user(), "unknown impersonated user", "user not exist")
    admin.clear_impersonation()

    for client in (admin, user):
        await client.close()
    print(f"payments-ai-charts conformance: ok {CHECKS} checks")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/"), sys.argv[2]))
