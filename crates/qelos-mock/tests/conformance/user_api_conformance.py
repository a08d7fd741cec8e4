"""User-API conformance: the official, unmodified Python client `qelos-sdk` against qelos-mock's
AI, blocks, app configuration, invites and lambdas endpoints.

Usage: python user_api_conformance.py <mock base url> <ai integration> <ai source> <lambda integration>
Prints "user-api conformance: ok <n> checks" and exits 0 when every check holds.
"""

import asyncio
import sys

from qelos_sdk import QelosSDK, QelosSDKOptions

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
    sdk = QelosSDK(QelosSDKOptions(app_url=url))
    await sdk.authentication.oauth_signin({"username": username, "password": password})
    return sdk


async def main(url, ai_integration, ai_source, lambda_integration):
    admin = await signed_in(url, "test@test.com", "admin")
    user = await signed_in(url, "user@test.com", "user1234")

    async def no_credentials(_url, _force=False):
        return {}

    anonymous = QelosSDK(QelosSDKOptions(app_url=url, extra_headers=no_credentials))

    # AI threads
    thread = await user.ai.threads.create({"integration": ai_integration, "title": "Py"})
    check(thread["integration"] == ai_integration and thread["title"] == "Py", "thread created")
    listed = await user.ai.threads.list({"integration": ai_integration})
    check([t["_id"] for t in listed] == [thread["_id"]], "thread listed")
    await expect_error(user.ai.threads.create({"integration": "6650ffffffffffffffffffff"}),
                       "unknown integration refused", "Integration not found")

    # Chat: whole, in a thread, streamed
    answer = await user.ai.chat.chat(ai_integration, {"messages": [{"role": "user", "content": "hi py"}]})
    check(answer["choices"][0]["message"]["content"] == "Echo: hi py", "chat answer")
    await user.ai.chat.chat_in_thread(ai_integration, thread["_id"],
                                      {"messages": [{"role": "user", "content": "kept"}]})
    kept = await user.ai.threads.get_one(thread["_id"])
    check([m["role"] for m in kept["messages"]] == ["user", "assistant"], "thread keeps both messages")
    stream = await user.ai.chat.stream(ai_integration, {"messages": [{"role": "user", "content": "a b c"}]})
    events = [e async for e in stream]
    text = "".join(e.get("content", "") for e in events if e.get("type") == "chunk")
    check(text == "Echo: a b c" and events[-1]["type"] == "done", "SSE stream parsed by the Python client")
    deleted = await user.ai.threads.delete(thread["_id"])
    check(deleted["message"] == "Thread deleted successfully", "thread deleted")
    await expect_error(user.ai.threads.get_one(thread["_id"]), "deleted thread is gone", "Thread not found")

    # RAG storage
    storage = await admin.ai.rag.create_storage(ai_source, {"integrationId": ai_integration, "scope": "tenant"})
    check(storage["success"] and storage["vectorStore"]["scope"] == "tenant", "storage created")
    uploaded = await admin.ai.rag.upload_content(ai_source, {"integrationId": ai_integration, "content": "doc"})
    check(uploaded["fileId"].startswith("file-"), "content uploaded")
    cleared = await admin.ai.rag.clear_storage(ai_source, {"integrationId": ai_integration})
    check(cleared["clearedCount"] == 1, "storage cleared")
    await expect_error(user.ai.rag.clear_storage(ai_source, {"integrationId": ai_integration}),
                       "plain users cannot manage storage", "not permitted")

    # Blocks
    block = await admin.blocks.create({"name": "py-block", "content": "<b>x</b>"})
    check(block["name"] == "py-block", "block created")
    check((await anonymous.blocks.get_block(block["_id"]))["content"] == "<b>x</b>", "block read publicly")
    check(len(await admin.blocks.get_list()) == 1, "blocks listed")
    await admin.blocks.update(block["_id"], {"content": "<i>y</i>"})
    await expect_error(user.blocks.get_list(), "plain users cannot list blocks", "you are not authorized")
    await admin.blocks.remove(block["_id"])
    await expect_error(admin.blocks.get_block(block["_id"]), "removed block is gone", "block not exists")

    # App configuration
    config = await anonymous.app_configurations.get_app_configuration()
    check(config["metadata"]["name"] == "Qelos Mock", "app configuration read")
    updated = await admin.app_configurations.update({"name": "Py Renamed"})
    check(updated["metadata"]["name"] == "Py Renamed", "app configuration updated")
    await expect_error(user.app_configurations.update({"name": "x"}), "plain users cannot update", "not authorized")

    # Invites: the admin invites through the workspace, the user answers
    workspaces = await admin.workspaces.get_list()
    beta = next(w for w in workspaces if w["name"] == "Beta Labs")
    await admin.workspaces.update(beta["_id"], {"invites": [{"email": "user@test.com", "roles": ["member"]}]})
    inviting = await user.invites.get_list()
    check([w["_id"] for w in inviting] == [beta["_id"]], "invite listed for the user")
    response = await user.invites.accept_workspace(beta["_id"])
    check(response.status_code == 200, "invite accepted")
    check(await user.invites.get_list() == [], "no invite left")
    response = await user.invites.decline_workspace(beta["_id"])
    check(response.status_code == 404, "answering again finds no invite")

    # Lambdas
    echoed = await user.lambdas.post(lambda_integration, {"n": 1})
    check(echoed["method"] == "POST" and echoed["body"] == {"n": 1}, "lambda post echoed")
    got = await user.lambdas.get(lambda_integration)
    check(got["method"] == "GET", "lambda get")
    await expect_error(user.lambdas.get("6650ffffffffffffffffffff"), "unknown lambda", "integration not found")

    for client in (admin, user, anonymous):
        await client.close()
    print(f"user-api conformance: ok {CHECKS} checks")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/"), *sys.argv[2:5]))
