"""The dashboard, driven in headless Chromium against the running service and the fake providers.

One project and one page for the whole module, as a person would use it: the tests run in file
order and build on each other (keys added early are replaced, re-verified and deleted later), and
the last checks look for every secret typed in along the way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import PROVIDERS, SERVED_MODEL, key_body, secret_of
from tests.browser.support import (
    ARTIFACTS,
    ROOT,
    SESSION_KEY,
    LiveService,
    PageRecord,
    assert_no_secret_in_page,
)
from tests.fakes import make_service_account

pytestmark = pytest.mark.browser

PROJECT_NAME = "Acme Research"
LABELS = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google AI Studio (Gemini API)",
    "vertex": "Google Vertex AI",
    "azure": "Azure OpenAI",
    "custom": "OpenAI-compatible endpoint",
}


def expect(target: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


@dataclass
class Dash:
    page: Any
    record: PageRecord
    live: LiveService
    project_id: str
    api_key: str
    secrets: list[str] = field(default_factory=list)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def dialog(self) -> Any:
        return self.page.locator("#key-dialog")

    @property
    def form_error(self) -> Any:
        return self.page.locator("#key-form-error")

    def row(self, slug: str) -> Any:
        return self.page.locator(f'#keys tr[data-slug="{slug}"]')

    def rows(self) -> Any:
        return self.page.locator("#keys tr")

    def body(self, provider: str, behavior: str = "accept", **extra: Any) -> dict[str, Any]:
        body = key_body(self.live.fakes, provider, behavior=behavior, **extra)
        self.secrets.append(secret_of(body))
        return body

    async def fill_key_form(self, body: dict[str, Any], slug: str | None = None) -> None:
        dialog = self.dialog
        if slug is not None:
            await dialog.get_by_label("Provider").select_option(body["provider"])
            await dialog.get_by_label("Key name").fill(slug)
        for name in ("api_key", "base_url", "location", "api_version", "default_model"):
            if name in body:
                await dialog.locator(f"#kf-{name}").fill(body[name])
        if "credentials" in body:
            await dialog.locator("#kf-credentials").fill(json.dumps(body["credentials"], indent=2))

    async def add_key(self, slug: str, body: dict[str, Any]) -> None:
        await self.page.get_by_role("button", name="Add key").click()
        await expect(self.dialog).to_be_visible()
        await self.fill_key_form(body, slug)
        await self.dialog.get_by_role("button", name="Verify & save").click()
        await expect(self.row(slug)).to_be_visible()
        await expect(self.dialog).to_be_hidden()
        self.bodies[slug] = body

    async def server_keys(self) -> list[dict[str, Any]]:
        reply = await self.live.call("GET", f"/v1/projects/{self.project_id}/keys", self.api_key)
        assert reply.status_code == 200, reply.text
        data: list[dict[str, Any]] = reply.json()["data"]
        return data


@pytest.fixture(scope="module")
async def dash(browser: Any, live_service: LiveService) -> AsyncIterator[Dash]:
    project_id, api_key = await live_service.new_project(PROJECT_NAME)
    context = await browser.new_context(
        base_url=live_service.url, viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_service.url)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    record = PageRecord()
    record.attach(page)
    try:
        yield Dash(page, record, live_service, project_id, api_key)
    finally:
        await context.close()


async def test_sign_in_refuses_a_wrong_key_then_opens_the_project(dash: Dash) -> None:
    page = dash.page
    await page.goto("/dashboard")
    await expect(page.get_by_role("heading", name="Sign in to your project")).to_be_visible()
    await expect(page.get_by_label("Project id")).to_be_focused()

    await page.get_by_label("Project id").fill(dash.project_id)
    await page.get_by_label("Project API key").fill("byok_not-the-right-key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#signin-error")).to_have_text(
        "That API key was not accepted. Check that you copied the whole key."
    )
    await expect(page.locator("#settings")).to_be_hidden()
    assert await page.evaluate("() => sessionStorage.length") == 0

    await page.get_by_label("Project id").fill("prj_does-not-exist")
    await page.get_by_label("Project API key").fill(dash.api_key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#signin-error")).to_contain_text("No project with that id")

    await page.get_by_label("Project id").fill(dash.project_id)
    await page.get_by_label("Project API key").fill(dash.api_key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=PROJECT_NAME, level=1)).to_be_visible()
    await expect(page.locator("#who-id")).to_have_text(dash.project_id)
    await expect(page.get_by_role("heading", name="Project access")).to_be_visible()
    await expect(page.get_by_text("No provider keys yet.")).to_be_visible()
    await expect(page.locator("#api-keys tr")).to_have_count(1)
    saved = json.loads(await page.evaluate(f"() => sessionStorage.getItem('{SESSION_KEY}')"))
    assert saved == {"projectId": dash.project_id, "apiKey": dash.api_key}


async def test_add_a_key_for_each_of_the_six_providers(dash: Dash) -> None:
    page = dash.page
    for provider in PROVIDERS:
        slug = f"{provider}-main"
        extra = {"default_model": SERVED_MODEL[provider]} if provider in SERVED_MODEL else {}
        body = dash.body(provider, **extra)
        await page.get_by_role("button", name="Add key").click()
        await expect(dash.dialog.get_by_role("heading", name="Add key")).to_be_visible()
        await dash.fill_key_form(body, slug)
        if provider == "vertex":
            # The service-account JSON is read locally and its account shown back before saving.
            email = body["credentials"]["client_email"]
            await expect(dash.dialog.locator("#kf-credentials-preview")).to_contain_text(email)
            await expect(dash.dialog.get_by_label("Region")).to_have_attribute("placeholder", "global")
        if provider == "openai":
            options = await dash.dialog.locator("#kf-models option").evaluate_all(
                "(els) => els.map((el) => el.value)"
            )
            assert "gpt-5.4-mini" in options and "gpt-4o" in options
        await dash.dialog.get_by_role("button", name="Verify & save").click()
        row = dash.row(slug)
        await expect(row).to_be_visible()
        await expect(dash.dialog).to_be_hidden()
        dash.bodies[slug] = body
        await expect(row.locator(".badge")).to_have_text("Verified")
        await expect(row).to_contain_text(LABELS[provider].split(" (")[0])
        await expect(row.locator(".fp")).to_have_text(re.compile(r"^fp_"))
        if provider == "vertex":
            await expect(row).to_contain_text(body["credentials"]["client_email"])
            await expect(row).to_contain_text("Region global")
        if provider in ("azure", "custom"):
            await expect(row).to_contain_text(body["base_url"])
            await expect(row).to_contain_text(SERVED_MODEL[provider])
        await expect(page.locator("#toast")).to_contain_text(f"“{slug}” verified and saved")

    await expect(dash.rows()).to_have_count(6)
    stored = await dash.server_keys()
    assert [k["key_slug"] for k in stored] == [f"{p}-main" for p in PROVIDERS]
    assert all(k["status"] == "verified" for k in stored)

    # Usage: shown once the usage route answers, hidden (silently) while it does not.
    usage = await dash.live.call("GET", f"/v1/projects/{dash.project_id}/usage", dash.api_key)
    header = page.locator('#keys-table th[data-col="usage"]')
    if usage.status_code == 200:
        await expect(header).to_be_visible()
    else:
        await expect(header).to_be_hidden()
    await assert_no_secret_in_page(page, dash.record, dash.secrets, dash.api_key)


async def test_a_bad_key_shows_its_reason_and_adds_no_row(dash: Dash) -> None:
    page = dash.page
    before = len(await dash.server_keys())
    await page.get_by_role("button", name="Add key").click()
    await dash.dialog.get_by_label("Provider").select_option("openai")
    await dash.dialog.get_by_label("Key name").fill("doomed")
    cases = [
        ("reject", {}, "The provider rejected this key. Nothing was saved."),
        ("no_quota", {}, "The provider says this account is out of credit or quota. Nothing was saved."),
        ("unknown_model", {"default_model": "gpt-4.1"}, "The default model does not exist"),
        ("rate_limited", {}, "The provider is rate-limiting requests right now. Try again in 7 seconds."),
        ("unavailable", {}, "The provider is having trouble right now"),
    ]
    for behavior, extra, message in cases:
        body = dash.body("openai", behavior=behavior, **extra)
        await dash.fill_key_form(body)
        await dash.dialog.get_by_role("button", name="Verify & save").click()
        await expect(dash.form_error).to_contain_text(message)
        await expect(dash.dialog).to_be_visible()
        await dash.dialog.locator("#kf-default_model").fill("")

    # A slow provider: the dialog shows that it is checking, then the timeout in plain words.
    body = dash.body("openai", behavior="slow")
    await dash.fill_key_form(body)
    submit = dash.dialog.locator("#kf-submit")
    await submit.click()
    await expect(submit).to_be_disabled()
    await expect(submit).to_have_text("Checking…")
    await expect(dash.dialog.locator("#key-form-status")).to_have_text("Checking the key with OpenAI…")
    await expect(dash.form_error).to_have_text(
        "The provider did not answer in time. Try again. Nothing was saved."
    )
    await expect(submit).to_be_enabled()
    await expect(dash.dialog.locator("#key-form-status")).to_have_text("")

    # An endpoint that is not the provider's API (custom provider, HTML answer).
    await dash.dialog.get_by_label("Provider").select_option("custom")
    body = dash.body("custom", behavior="not_json", default_model=SERVED_MODEL["custom"])
    await dash.fill_key_form(body)
    await dash.dialog.get_by_role("button", name="Verify & save").click()
    await expect(dash.form_error).to_contain_text("The endpoint answered, but not like this provider's API.")

    await dash.dialog.get_by_role("button", name="Cancel").click()
    await expect(dash.dialog).to_be_hidden()
    await expect(dash.row("doomed")).to_have_count(0)
    assert len(await dash.server_keys()) == before
    await assert_no_secret_in_page(page, dash.record, dash.secrets, dash.api_key)


async def test_key_name_rules_duplicates_and_field_errors(dash: Dash) -> None:
    page = dash.page
    await page.get_by_role("button", name="Add key").click()
    name = dash.dialog.get_by_label("Key name")
    error = dash.dialog.locator("#kf-key_slug-error")
    for typed, message in [
        ("Team-Key", "Use lowercase letters only."),
        ("team key", "Only lowercase letters, digits and hyphens are allowed."),
        ("-team", "The name must start and end with a letter or digit."),
        ("team-", "The name must start and end with a letter or digit."),
        ("openai-main", "A key with this name already exists."),
    ]:
        await name.fill(typed)
        await expect(error).to_have_text(message)
        await expect(name).to_have_attribute("aria-invalid", "true")
    await name.fill("team-key-2")
    await expect(error).to_be_hidden()
    await expect(name).not_to_have_attribute("aria-invalid", "true")
    assert await name.get_attribute("maxlength") == "64"

    # A name taken behind the page's back: the service answers 409 and the page says so.
    raced = dash.body("openai")
    reply = await dash.live.call(
        "POST", f"/v1/projects/{dash.project_id}/keys", dash.api_key, {**raced, "key_slug": "raced"}
    )
    assert reply.status_code == 201, reply.text
    body = dash.body("openai")
    await name.fill("raced")
    await dash.fill_key_form(body)
    await dash.dialog.get_by_role("button", name="Verify & save").click()
    await expect(dash.form_error).to_have_text("A key with this name already exists. Nothing was saved.")
    await expect(error).to_have_text("A key with this name already exists.")
    await expect(name).to_be_focused()
    await expect(dash.row("raced")).to_have_count(0)
    reply = await dash.live.call("DELETE", f"/v1/projects/{dash.project_id}/keys/raced", dash.api_key)
    assert reply.status_code == 200

    # A field the service refuses (422 invalid_request) gets its message under that field.
    await dash.dialog.get_by_label("Provider").select_option("azure")
    await name.fill("azure-dated")
    body = dash.body("azure", api_version="2024/10/21", default_model=SERVED_MODEL["azure"])
    await dash.fill_key_form(body)
    await dash.dialog.get_by_role("button", name="Verify & save").click()
    await expect(dash.dialog.locator("#kf-api_version-error")).to_have_text(
        "Use an API version date such as 2024-10-21 (or 2024-10-21-preview), or leave it empty."
    )
    await expect(dash.dialog.get_by_label("API version")).to_be_focused()
    await expect(dash.form_error).to_contain_text("Nothing was saved.")

    # Required fields are checked before anything is sent.
    await dash.dialog.get_by_label("API key", exact=True).fill("")
    await dash.dialog.get_by_role("button", name="Verify & save").click()
    await expect(dash.dialog.locator("#kf-api_key-error")).to_have_text("API key is required.")

    await page.keyboard.press("Escape")
    await expect(dash.dialog).to_be_hidden()
    await expect(dash.row("azure-dated")).to_have_count(0)
    await expect(dash.rows()).to_have_count(6)


async def test_replace_a_key_and_delete_one(dash: Dash, tmp_path: Path) -> None:
    page = dash.page
    row = dash.row("openai-main")
    old_fingerprint = await row.locator(".fp").inner_text()

    await row.get_by_role("button", name="Replace openai-main").click()
    await expect(dash.dialog.get_by_role("heading", name="Replace key “openai-main”")).to_be_visible()
    await expect(dash.dialog.get_by_label("Provider")).to_be_disabled()
    await expect(dash.dialog.get_by_label("Provider")).to_have_value("openai")
    await expect(dash.dialog.get_by_label("Key name")).to_have_value("openai-main")
    await expect(dash.dialog.get_by_label("Key name")).to_have_attribute("readonly", "")
    secret_input = dash.dialog.get_by_label("API key", exact=True)
    await expect(secret_input).to_be_focused()
    await expect(secret_input).to_have_value("")
    await expect(dash.dialog).to_contain_text("Enter the key again")

    # A replacement that fails its check leaves the stored key as it was.
    await secret_input.fill(dash.body("openai", behavior="reject")["api_key"])
    await dash.dialog.get_by_role("button", name="Verify & save").click()
    await expect(dash.form_error).to_have_text("The provider rejected this key. The stored key is unchanged.")
    await expect(row.locator(".fp")).to_have_text(old_fingerprint)

    new = dash.body("openai", default_model="gpt-4.1")
    await dash.fill_key_form(new)
    await dash.dialog.get_by_role("button", name="Verify & save").click()
    await expect(dash.dialog).to_be_hidden()
    await expect(row.locator(".fp")).not_to_have_text(old_fingerprint)
    await expect(row).to_contain_text("Model gpt-4.1")
    await expect(row.locator(".badge")).to_have_text("Verified")
    await expect(page.locator("#toast")).to_contain_text("“openai-main” replaced and verified")
    # Focus went back to the row's Replace button (re-rendered with the new data).
    await expect(row.get_by_role("button", name="Replace openai-main")).to_be_focused()
    dash.bodies["openai-main"] = new

    # Vertex: the new service account comes from a file picked on disk.
    email = "replaced-sa@test-proj.iam.gserviceaccount.com"
    account = make_service_account(client_email=email)
    dash.live.fakes.vertex.script(email, "accept")
    dash.secrets.append(account["private_key"])
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(account))
    await dash.row("vertex-main").get_by_role("button", name="Replace vertex-main").click()
    await dash.dialog.locator("#kf-credentials-file").set_input_files(str(key_file))
    await expect(dash.dialog.locator("#kf-credentials-preview")).to_contain_text(email)
    await dash.dialog.get_by_role("button", name="Verify & save").click()
    await expect(dash.dialog).to_be_hidden()
    await expect(dash.row("vertex-main")).to_contain_text(email)
    key_file.unlink()

    # Delete, with a confirmation naming the key; Escape backs out and focus returns.
    delete = dash.row("anthropic-main").get_by_role("button", name="Delete anthropic-main")
    await delete.click()
    confirm = page.locator("#confirm-dialog")
    await expect(confirm.get_by_role("heading", name="Delete key “anthropic-main”?")).to_be_visible()
    await expect(confirm).to_contain_text("cannot be undone")
    await expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(confirm).to_be_hidden()
    await expect(delete).to_be_focused()
    await expect(dash.row("anthropic-main")).to_have_count(1)

    await delete.click()
    await confirm.get_by_role("button", name="Delete key").click()
    await expect(confirm).to_be_hidden()
    await expect(dash.row("anthropic-main")).to_have_count(0)
    await expect(page.locator("#toast")).to_contain_text("Key “anthropic-main” deleted.")
    await expect(page.get_by_role("button", name="Add key")).to_be_focused()
    assert "anthropic-main" not in [k["key_slug"] for k in await dash.server_keys()]
    await assert_no_secret_in_page(page, dash.record, dash.secrets, dash.api_key)


async def test_reverify_flips_a_key_to_failing_when_the_provider_rejects_it(dash: Dash) -> None:
    row = dash.row("openai-main")
    secret = dash.bodies["openai-main"]["api_key"]
    dash.live.fakes.openai.script(secret, "reject")
    await row.get_by_role("button", name="Re-verify openai-main").click()
    await expect(row.locator(".badge")).to_have_text("Failing")
    await expect(row.locator(".reason")).to_have_text("The provider rejected this key.")
    await expect(row.locator(".badge")).to_have_attribute("title", re.compile(r".+"))
    await expect(dash.page.locator("#toast")).to_contain_text("“openai-main” is failing.")
    stored = {k["key_slug"]: k for k in await dash.server_keys()}
    assert stored["openai-main"]["status"] == "failing"
    assert stored["openai-main"]["last_error"]["reason"] == "invalid_credentials"

    dash.live.fakes.openai.script(secret, "accept")
    await row.get_by_role("button", name="Re-verify openai-main").click()
    await expect(row.locator(".badge")).to_have_text("Verified")
    await expect(row.locator(".reason")).to_have_count(0)
    await expect(row.get_by_role("button", name="Re-verify openai-main")).to_be_focused()


async def test_project_api_keys_create_copy_and_revoke(dash: Dash) -> None:
    page = dash.page
    access = page.locator("#access")
    await expect(access.locator("#api-keys tr")).to_have_count(1)

    # The last API key cannot be revoked.
    await access.locator("#api-keys tr").first.get_by_role("button", name=re.compile("^Revoke")).click()
    confirm = page.locator("#confirm-dialog")
    await expect(confirm.get_by_role("heading", name=re.compile("^Revoke API key"))).to_be_visible()
    await confirm.get_by_role("button", name="Revoke key").click()
    await expect(confirm.locator("#confirm-error")).to_have_text(
        "A project keeps at least one API key. Create another key before revoking this one."
    )
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_be_hidden()

    await access.get_by_role("button", name="Create API key").click()
    create = page.locator("#apikey-dialog")
    await expect(create.get_by_label("Label")).to_be_focused()
    await create.get_by_label("Label").fill("ci-runner")
    await create.get_by_role("button", name="Create key").click()
    shown = create.get_by_label("New API key")
    await expect(shown).to_have_value(re.compile(r"^byok_"))
    new_key = await shown.input_value()
    await create.get_by_role("button", name="Copy").click()
    await expect(create.locator("#apikey-copied")).to_have_text("Copied to the clipboard.")
    assert await page.evaluate("() => navigator.clipboard.readText()") == new_key
    assert new_key not in await page.content()
    await expect(access.locator("#api-keys tr")).to_have_count(2)
    await create.get_by_role("button", name="Done").click()
    await expect(create).to_be_hidden()
    await expect(shown).to_have_value("")
    await expect(access.get_by_role("button", name="Create API key")).to_be_focused()

    row = access.locator("#api-keys tr", has_text="ci-runner")
    await expect(row).to_have_count(1)
    key_id = await row.get_attribute("data-id")
    assert key_id and key_id in await row.inner_text()
    works = await dash.live.call("GET", f"/v1/projects/{dash.project_id}", new_key)
    assert works.status_code == 200

    await row.get_by_role("button", name="Revoke ci-runner").click()
    await expect(confirm).to_contain_text("ci-runner")
    await confirm.get_by_role("button", name="Revoke key").click()
    await expect(confirm).to_be_hidden()
    await expect(access.locator("#api-keys tr")).to_have_count(1)
    await expect(page.locator("#toast")).to_contain_text("API key “ci-runner” revoked.")
    revoked = await dash.live.call("GET", f"/v1/projects/{dash.project_id}", new_key)
    assert revoked.status_code == 401
    values = await page.evaluate("() => [...document.querySelectorAll('input')].map((el) => el.value)")
    assert new_key not in values


async def test_keyboard_dialog_focus_and_labelled_fields(dash: Dash) -> None:
    page = dash.page
    add = page.get_by_role("button", name="Add key")
    await add.focus()
    await page.keyboard.press("Enter")
    await expect(dash.dialog).to_be_visible()
    await expect(dash.dialog.get_by_label("Provider")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(dash.dialog.get_by_label("Key name")).to_be_focused()

    # Every control of every provider's form has a label.
    for provider in PROVIDERS:
        await dash.dialog.get_by_label("Provider").select_option(provider)
        unlabelled = await dash.dialog.evaluate(
            """(dialog) => [...dialog.querySelectorAll('input, select, textarea')]
                .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                .map((el) => el.id || el.name)"""
        )
        assert unlabelled == [], f"{provider}: unlabelled {unlabelled}"

    await dash.dialog.get_by_label("Provider").select_option("openai")
    await dash.dialog.get_by_label("Key name").fill("typed-then-escaped")
    await dash.dialog.get_by_label("API key", exact=True).fill("sk-typed-but-never-saved-123456")
    dash.secrets.append("sk-typed-but-never-saved-123456")
    await page.keyboard.press("Escape")
    await expect(dash.dialog).to_be_hidden()
    await expect(add).to_be_focused()
    # Closing the dialog removed what was typed.
    assert await page.locator("#kf-fields input").count() == 0
    await expect(page.locator("#kf-key_slug")).to_have_value("")

    # The row actions are plain buttons, reachable and usable from the keyboard.
    reverify = dash.row("google-main").get_by_role("button", name="Re-verify google-main")
    await reverify.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#toast")).to_contain_text("“google-main” is verified")
    await expect(reverify).to_be_focused()


async def test_a_narrow_window_shows_the_tables_as_cards(dash: Dash) -> None:
    page = dash.page
    await page.set_viewport_size({"width": 390, "height": 844})
    try:
        row = dash.row("openai-main")
        display = await row.evaluate("(el) => getComputedStyle(el).display")
        assert display == "block"
        head = await page.locator("#keys-table thead").bounding_box()
        assert head is None or head["width"] <= 1
        label = await row.locator("td").first.evaluate("(el) => getComputedStyle(el, '::before').content")
        assert label == '"Key name"'
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a narrow window"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.locator("#toast").evaluate("(el) => el.classList.remove('is-visible')")
        await page.wait_for_timeout(300)
        await page.screenshot(path=str(ARTIFACTS / "dashboard-narrow.png"), full_page=True)
    finally:
        await page.set_viewport_size({"width": 1280, "height": 900})


async def test_screenshot_of_the_byok_section(dash: Dash) -> None:
    page = dash.page
    # One failing key, so the picture shows both states.
    google = dash.bodies["google-main"]["api_key"]
    dash.live.fakes.google.script(google, "reject")
    await dash.row("google-main").get_by_role("button", name="Re-verify google-main").click()
    await expect(dash.row("google-main").locator(".badge")).to_have_text("Failing")
    dash.live.fakes.google.script(google, "accept")

    await page.set_viewport_size({"width": 1240, "height": 900})
    try:
        await page.evaluate("() => document.activeElement && document.activeElement.blur()")
        await page.locator("#toast").evaluate("(el) => el.classList.remove('is-visible')")
        await page.wait_for_timeout(400)  # the row highlight and toast fade out
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        section = ARTIFACTS / "dashboard-byok.png"
        await page.locator("#byok").screenshot(path=str(section))
        full = ARTIFACTS / "dashboard.png"
        await page.screenshot(path=str(full), full_page=True)
        assert section.stat().st_size > 10_000
        if os.environ.get("BYOK_UPDATE_DOCS_SCREENSHOT"):
            shutil.copyfile(full, ROOT / "docs" / "dashboard.png")
    finally:
        await page.set_viewport_size({"width": 1280, "height": 900})


async def test_no_secret_anywhere_after_all_of_it(dash: Dash) -> None:
    page = dash.page
    # Every provider's secret went through the page: the scripted good ones and the bad ones.
    assert {secret_of(body) for body in dash.bodies.values()} <= set(dash.secrets)
    assert len(dash.secrets) >= 15
    await assert_no_secret_in_page(page, dash.record, dash.secrets, dash.api_key)
    # The page kept to its own CSP and threw nothing.
    assert not [m for m in dash.record.console_errors if "Content Security Policy" in m]
    assert dash.record.page_errors == []
    # The page talked to its own origin only.
    assert all(url.startswith(dash.live.url) for url, _ in dash.record.bodies)


async def test_the_session_survives_a_reload_and_sign_out_clears_it(dash: Dash) -> None:
    page = dash.page
    await page.reload()
    await expect(page.get_by_role("heading", name=PROJECT_NAME, level=1)).to_be_visible()
    await expect(dash.rows()).to_have_count(5)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to your project")).to_be_visible()
    await expect(page.locator("#settings")).to_be_hidden()
    await expect(page.locator("#keys tr")).to_have_count(0)
    assert await page.evaluate("() => sessionStorage.length") == 0
    await expect(page.get_by_label("Project id")).to_have_value(dash.project_id)
    await expect(page.get_by_label("Project API key")).to_have_value("")
    await expect(page.get_by_label("Project API key")).to_be_focused()

    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in to your project")).to_be_visible()
