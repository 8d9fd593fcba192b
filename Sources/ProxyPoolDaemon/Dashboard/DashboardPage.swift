/// The dashboard's page, script and style, embedded in the binary: no CDN, no web font, no build step, no
/// request to anything but the daemon. The script builds the DOM with `textContent` only (names and errors
/// come from users and upstreams: never parsed as HTML), and calls the API with the session's CSRF token.
enum DashboardPage {
    /// The page for a signed-in session; the CSRF token goes in a meta tag the script reads.
    static func html(csrf: String) -> [UInt8] {
        Array("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="csrf" content="\(csrf)"><title>proxypool</title><link rel="stylesheet" href="/ui/app.css"></head>
        <body><nav><h1>proxypool</h1><a href="#overview" class="on">Overview</a></nav>
        <main id="overview"><header><h2>Overview</h2><span id="daemon"></span></header>
        <p id="error" role="alert" hidden></p>
        <table id="credentials"><thead><tr><th>Name</th><th>Provider</th><th>Key</th><th>Health</th><th>Apps</th><th></th></tr></thead><tbody></tbody></table>
        <p id="empty" hidden>No credentials yet: add one below, or with <code>proxypoolctl credential add</code>.</p>
        <form id="add"><h3>Add a credential</h3>
        <label>Name <input name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._-]*"></label>
        <label>Provider <select name="provider"><option>openai</option><option>anthropic</option><option>gemini</option><option>azure-openai</option><option>openai-compatible</option></select></label>
        <label>Key <input name="secret" type="password" required autocomplete="off"></label>
        <label>Base URL <input name="baseURL" placeholder="provider default"></label>
        <button>Add</button></form></main>
        <script src="/ui/app.js"></script></body></html>

        """.utf8)
    }

    /// Without a session the page says only how to get one.
    static let signIn = Array("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>proxypool</title><link rel="stylesheet" href="/ui/app.css"></head>
        <body><main><h2>proxypool</h2><p>Not signed in. Run <code>proxypoolctl dashboard</code> as the user that runs
        proxypoold and open the one-time link it prints (valid for 5 minutes).</p></main></body></html>

        """.utf8)

    static let linkRefused = Array("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>proxypool</title><link rel="stylesheet" href="/ui/app.css"></head>
        <body><main><h2>proxypool</h2><p>This sign-in link was already used or has expired. Run
        <code>proxypoolctl dashboard</code> again for a new one.</p></main></body></html>

        """.utf8)

    static let script = Array(#"""
        "use strict";
        const csrf = document.querySelector('meta[name="csrf"]').content;
        async function call(method, params) {
          const r = await fetch("/api/v0/" + method, {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(params || {})});
          const reply = await r.json();
          if (reply.error) throw new Error(reply.error.message);
          return reply.result;
        }
        function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
        function showError(e) { const p = document.getElementById("error"); p.textContent = e ? String(e.message || e) : ""; p.hidden = !e; }
        function button(label, action) {
          const b = el("button", label);
          b.addEventListener("click", async () => { b.disabled = true; try { await action(); showError(null); } catch (e) { showError(e); } b.disabled = false; await refresh(); });
          return b;
        }
        function health(name, status, c) {
          if (!c.enabled) return "disabled";
          const h = status.health.find(x => x.name === name);
          if (!h) return c.lastTest && !c.lastTest.ok ? "ok (last test failed: " + c.lastTest.message + ")" : "ok";
          if (h.state === "cooling") return "cooling down" + (h.secondsLeft ? " (" + h.secondsLeft + " s)" : "") + (h.reason ? ": " + h.reason : "");
          return h.state + (h.reason ? ": " + h.reason : "");
        }
        async function refresh() {
          let status, creds;
          try { [status, creds] = await Promise.all([call("status"), call("credential.list")]); } catch (e) { showError(e); return; }
          document.getElementById("daemon").textContent = "proxypoold " + status.version + " on " + status.listen + ", up " + status.uptimeSeconds + " s";
          const body = document.querySelector("#credentials tbody");
          body.replaceChildren();
          for (const c of creds) {
            const row = el("tr");
            row.dataset.name = c.name;
            row.append(el("td", c.name), el("td", c.provider), el("td", c.secretRedacted), el("td", health(c.name, status, c), "health"),
                       el("td", c.assignedTo.join(", ") || "pool"));
            const actions = el("td");
            actions.append(
              button(c.enabled ? "Disable" : "Enable", () => call("credential.setEnabled", {name: c.name, enabled: !c.enabled})),
              button("Test", async () => { const t = await call("credential.test", {name: c.name}); if (!t.ok) throw new Error(c.name + ": " + t.message); }),
              button("Remove", async () => { if (confirm("Remove " + c.name + "?")) await call("credential.remove", {name: c.name, force: true}); }));
            row.append(actions);
            body.append(row);
          }
          document.getElementById("empty").hidden = creds.length > 0;
        }
        document.getElementById("add").addEventListener("submit", async (ev) => {
          ev.preventDefault();
          const f = new FormData(ev.target);
          const params = {name: f.get("name"), provider: f.get("provider"), secret: f.get("secret")};
          if (f.get("baseURL")) params.baseURL = f.get("baseURL");
          try { await call("credential.add", params); ev.target.reset(); showError(null); } catch (e) { showError(e); }
          await refresh();
        });
        refresh();
        setInterval(refresh, 5000);

        """#.utf8)

    static let style = Array("""
        body { margin: 0; display: flex; font: 14px/1.4 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; min-height: 100vh; }
        nav { width: 180px; padding: 16px; background: #1d2430; color: #fff; flex-shrink: 0; }
        nav h1 { font-size: 18px; margin: 0 0 16px; } nav a { display: block; color: #cfd6e0; text-decoration: none; padding: 4px 0; }
        nav a.on { color: #fff; font-weight: 600; }
        main { flex: 1; padding: 16px 24px; min-width: 0; }
        header { display: flex; gap: 16px; align-items: baseline; } #daemon { color: #5b6676; }
        table { border-collapse: collapse; width: 100%; background: #fff; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e6ea; }
        td button { margin-right: 4px; } #error { color: #a11; background: #fde8e8; padding: 8px; }
        form { margin-top: 24px; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; } form h3 { width: 100%; margin: 0; }
        label { display: flex; flex-direction: column; gap: 2px; }
        @media (max-width: 700px) { body { flex-direction: column; } nav { width: auto; } }

        """.utf8)
}
