"""The dashboard in headless Chromium (Selenium, the system browser and driver), against the real proxypoold.

Run by Tests/e2e/dashboard.sh, which starts the daemon and the fake upstream and sets DASH_* variables.
What a user does in the page is checked on the daemon's side with proxypoolctl, and the reverse.
"""
import json
import os
import subprocess
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CTL = os.environ["DASH_CTL_BIN"]
SOCKET = os.environ["DASH_CTL_SOCKET"]
FAKE = os.environ["DASH_FAKE_URL"]
SHOTS = os.environ["DASH_SHOTS"]


def ctl(*args, stdin=None):
    r = subprocess.run([CTL, "--socket", SOCKET, *args], input=stdin, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"proxypoolctl {' '.join(args)}: {r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    yield drv
    drv.quit()


def wait_for(drv, css, timeout=10):
    return WebDriverWait(drv, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, css) or False)[0]


def visible_error(drv):
    e = drv.find_element(By.ID, "error")
    return e.text if e.is_displayed() else ""


def shot(drv, name):
    drv.save_screenshot(os.path.join(SHOTS, name + ".png"))


def api_status(drv, method, csrf):
    """The status of an API call made from the page's own origin with the given CSRF token."""
    return drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/v0/' + arguments[0], {method: 'POST', headers: {'X-CSRF-Token': arguments[1]}, body: '{}'})"
        ".then(r => done(r.status), e => done(String(e)));", method, csrf)


def test_sign_in_manage_and_refusals(browser):
    ctl("credential", "add", "ctl-added", "--provider", "anthropic", "--base-url", FAKE, "--key-stdin", stdin="fake-ok")
    link = ctl("dashboard").strip()
    base = link.split("/ui/")[0]
    browser.get(link)
    # Seen in the page: a credential added with proxypoolctl.
    row = wait_for(browser, 'tr[data-name="ctl-added"]')
    assert "anthropic" in row.text and "0 requests" in row.text
    shot(browser, "overview")

    # Added in the page, seen by proxypoolctl (the secret never shown back).
    form = browser.find_element(By.ID, "add")
    form.find_element(By.NAME, "name").send_keys("web-added")
    Select(form.find_element(By.NAME, "provider")).select_by_visible_text("openai")
    form.find_element(By.NAME, "secret").send_keys("fake-ok")
    form.find_element(By.NAME, "baseURL").send_keys(FAKE + "/v1")
    form.find_element(By.TAG_NAME, "button").click()
    wait_for(browser, 'tr[data-name="web-added"]')
    assert not visible_error(browser)
    creds = json.loads(ctl("--json", "credential", "list"))
    assert [c for c in creds if c["name"] == "web-added" and c["provider"] == "openai"]
    assert "fake-ok" not in browser.page_source

    # Edited in the page (a new key and the free mark; the endpoint kept), seen by proxypoolctl.
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-name="web-added"]')
    next(b for b in row.find_elements(By.TAG_NAME, "button") if b.text == "Edit").click()
    edit = browser.find_element(By.ID, "edit")
    assert edit.find_element(By.NAME, "secret").get_attribute("value") == "", "the page is never given the key"
    edit.find_element(By.NAME, "secret").send_keys("fake-ok~EDITED")
    edit.find_element(By.NAME, "free").click()
    next(b for b in edit.find_elements(By.TAG_NAME, "button") if b.text == "Save").click()
    WebDriverWait(browser, 10).until(
        lambda d: [c for c in json.loads(ctl("--json", "credential", "list")) if c["name"] == "web-added"][0]["free"])
    edited = [c for c in json.loads(ctl("--json", "credential", "list")) if c["name"] == "web-added"][0]
    assert edited["secretRedacted"].endswith("ITED") and edited["baseURL"] == FAKE + "/v1", edited
    assert "fake-ok~EDITED" not in browser.page_source

    # Disabled in the page, seen by proxypoolctl.
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-name="web-added"]')
    next(b for b in row.find_elements(By.TAG_NAME, "button") if b.text == "Disable").click()
    WebDriverWait(browser, 10).until(
        lambda d: not [c for c in json.loads(ctl("--json", "credential", "list")) if c["name"] == "web-added"][0]["enabled"])

    # Apps: a chain made with proxypoolctl, reordered in the page.
    ctl("assign", "codex", "ctl-added", "web-added")
    browser.get(base + "/#apps")
    row = wait_for(browser, 'tr[data-app="codex"]')
    first = row.find_elements(By.CSS_SELECTOR, "span.chain")[0]
    assert first.text.startswith("ctl-added")
    next(b for b in first.find_elements(By.TAG_NAME, "button") if b.text == "↓").click()
    WebDriverWait(browser, 10).until(
        lambda d: json.loads(ctl("--json", "assignments")) == [{"app": "codex", "credentials": ["web-added", "ctl-added"]}])
    shot(browser, "apps")

    # Models: the classifier box.
    browser.get(base + "/#models")
    form = wait_for(browser, "#classify")
    form.find_element(By.NAME, "model").send_keys("claude-haiku-4-5-20251001")
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 10).until(lambda d: "fast" in d.find_element(By.ID, "classified").text)
    wait_for(browser, "#tier-table tbody tr")
    # A tier rule added in the page, seen by proxypoolctl, and then deciding the classification.
    form = browser.find_element(By.ID, "rule")
    form.find_element(By.NAME, "pattern").send_keys("mymodel*")
    Select(form.find_element(By.NAME, "tier")).select_by_visible_text("reasoning")
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 10).until(lambda d: "mymodel*" in d.find_element(By.ID, "rule-table").text)
    assert "mymodel*" in ctl("tier", "rule", "list")
    assert "reasoning" in ctl("classify", "mymodel-7b")
    shot(browser, "models")

    browser.get(base + "/#usage")
    wait_for(browser, "#usage:not([hidden])")
    shot(browser, "usage")

    # Refused: a wrong CSRF token (from the page's own origin), a replayed link, no session.
    assert api_status(browser, "status", "0" * 64) == 403
    csrf = browser.find_element(By.CSS_SELECTOR, 'meta[name="csrf"]').get_attribute("content")
    assert api_status(browser, "status", csrf) == 200
    browser.get(link)
    assert "already used or has expired" in browser.page_source
    browser.delete_all_cookies()
    browser.get(base + "/")
    assert "Not signed in" in browser.page_source
    shot(browser, "signed-out")


def fake_aborted():
    with urllib.request.urlopen(FAKE + "/__aborted", timeout=10) as r:
        return json.load(r)["aborted"]


def test_chat_streams_stop_cancels_and_the_live_log_shows_it(browser):
    ctl("credential", "add", "chat-fast", "--provider", "anthropic", "--base-url", FAKE, "--key-stdin", stdin="fake-ok")
    # Each event of this credential's stream comes 300 ms after the last.
    ctl("credential", "add", "chat-slow", "--provider", "openai", "--base-url", FAKE + "/v1", "--key-stdin", stdin="fake-slow-stream-300")
    browser.get(ctl("dashboard").strip())
    wait_for(browser, "#credentials tbody tr")
    base = browser.current_url.split("/#")[0].rstrip("/")
    browser.get(base + "/#live")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "live-state").text == "connected")
    browser.get(base + "/#chat")
    select = Select(wait_for(browser, "#chat-target option[value='credential:chat-slow']").find_element(By.XPATH, ".."))
    select.select_by_value("credential:chat-fast")
    model = browser.find_element(By.ID, "chat-model")
    model.clear(); model.send_keys("claude-sonnet-4-5")
    browser.find_element(By.ID, "chat-message").send_keys("hello")
    browser.find_element(By.ID, "chat-send").click()
    WebDriverWait(browser, 15).until(lambda d: "FAKE-UPSTREAM-OK" in d.find_element(By.ID, "conversation").text)
    assert "hello" in browser.find_element(By.CSS_SELECTOR, ".msg.user").text

    # A slow stream arrives in several DOM updates, and Stop cancels the upstream request.
    select.select_by_value("credential:chat-slow")
    model.clear(); model.send_keys("gpt-5.1")
    browser.execute_script("""
        window.updates = 0;
        new MutationObserver(m => { window.updates += m.length; })
          .observe(document.getElementById('conversation'), {childList: true, subtree: true, characterData: true});""")
    before = fake_aborted()
    browser.find_element(By.ID, "chat-message").send_keys("count slowly")
    browser.find_element(By.ID, "chat-send").click()
    WebDriverWait(browser, 15).until(lambda d: d.execute_script("return window.updates") >= 4)
    shot(browser, "chat")
    browser.find_element(By.ID, "chat-stop").click()
    WebDriverWait(browser, 10).until(lambda d: "(stopped)" in d.find_element(By.ID, "conversation").text)
    WebDriverWait(browser, 10).until(lambda d: fake_aborted() > before)

    # The live log (open since before the chats, its stream kept while another page shows) got both.
    browser.get(base + "/#live")
    row = wait_for(browser, '#live-table tr[data-credential="chat-fast"]', timeout=15)
    assert "dashboard" in row.text and "200" in row.text
    wait_for(browser, '#live-table tr[data-credential="chat-slow"]', timeout=15)
    shot(browser, "live")


def test_configure_shows_the_change_then_writes_on_confirm(browser):
    """The Apps page's Configure button: the diff first (key shown as ppk_…), nothing written until the click on
    Write; then the tool's file in the daemon's HOME holds the new key, and the key is bound to the tool's app."""
    home = os.environ["DASH_HOME"]
    env_file = os.path.join(home, ".gemini", ".env")
    os.makedirs(os.path.dirname(env_file), exist_ok=True)
    with open(env_file, "w") as f:
        f.write("# my gemini settings\nGEMINI_MODEL=gemini-2.5-pro\n")
    link = ctl("dashboard").strip()
    browser.get(link)
    browser.get(link.split("/ui/")[0] + "/#apps")
    wait_for(browser, '#configure-buttons button[data-tool="gemini-cli"]').click()
    diff = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "configure-diff").text or False)
    assert "+GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:" in diff and "+GEMINI_API_KEY=ppk_…" in diff, diff
    assert open(env_file).read() == "# my gemini settings\nGEMINI_MODEL=gemini-2.5-pro\n", "the preview wrote"
    shot(browser, "apps-configure-preview")
    browser.find_element(By.ID, "configure-write").click()
    done = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "configure-done").text or False)
    assert "Written. Access key k" in done and "bound to app gemini-cli" in done, done
    written = open(env_file).read()
    assert written.startswith("# my gemini settings\nGEMINI_MODEL=gemini-2.5-pro\n") and "GEMINI_API_KEY=ppk_" in written, written
    assert "gemini-cli" in ctl("key", "list")
    assert not visible_error(browser)
    shot(browser, "apps-configure-written")


def test_a_cooling_credential_counts_down_in_the_overview(browser):
    # A chat pinned to a credential whose upstream answers 429 with Retry-After: 120 cools it down.
    ctl("credential", "add", "cooling", "--provider", "openai", "--base-url", FAKE + "/v1", "--key-stdin",
        stdin="fake-429-retry-after-120")
    browser.get(ctl("dashboard").strip())
    row = wait_for(browser, 'tr[data-name="cooling"]')
    csrf = browser.find_element(By.CSS_SELECTOR, 'meta[name="csrf"]').get_attribute("content")
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/v0/chat', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': arguments[0]},"
        " body: JSON.stringify({credential: 'cooling', request: {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]}})})"
        ".then(r => done(r.status), e => done(String(e)));", csrf)
    assert status == 429, status
    browser.get(browser.current_url.split("#")[0] + "#overview")
    cell = WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-name="cooling"] td.health .countdown'))
    first = cell.text
    assert "cooling down" in browser.find_element(By.CSS_SELECTOR, 'tr[data-name="cooling"] td.health').text
    # It ticks in the page, between the 5-second refreshes.
    WebDriverWait(browser, 5).until(
        lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-name="cooling"] td.health .countdown').text != first)
    shot(browser, "overview-cooling")
