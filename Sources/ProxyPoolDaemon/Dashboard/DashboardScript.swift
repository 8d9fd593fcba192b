/// The dashboard's script: plain JavaScript, no build step. The DOM is built with `textContent` only (names,
/// models and errors come from users and upstreams: never parsed as HTML). Each page reads and changes state
/// through `call(method, params)`, the control method of that name (DashboardService's API).
extension DashboardPage {
    static let script = Array((core + overview + apps + DashboardConfigureScript.configure + models + usage + DashboardChatScript.live + DashboardChatScript.chat + start).utf8)

    private static let core = #"""
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
        // A button that runs an action, shows its error, and redraws the page.
        function button(label, action) {
          const b = el("button", label);
          b.type = "button";
          b.addEventListener("click", async () => { b.disabled = true; try { await action(); showError(null); } catch (e) { showError(e); } b.disabled = false; await show(); });
          return b;
        }
        function onSubmit(id, action) {
          document.getElementById(id).addEventListener("submit", async (ev) => {
            ev.preventDefault();
            try { await action(new FormData(ev.target), ev.target); showError(null); } catch (e) { showError(e); }
            await show();
          });
        }
        function row(cells) { const r = el("tr"); for (const c of cells) r.append(c instanceof Node ? c : el("td", String(c))); return r; }
        function td(...nodes) { const t = el("td"); t.append(...nodes); return t; }
        const pages = {};
        function current() { const p = location.hash.slice(1); return pages[p] ? p : "overview"; }
        async function show() {
          const name = current();
          for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== name;
          for (const a of document.querySelectorAll("nav a")) a.className = a.getAttribute("href") === "#" + name ? "on" : "";
          try { await pages[name](); } catch (e) { showError(e); }
        }
        window.addEventListener("hashchange", show);

        """#

    private static let overview = #"""
        // A duration counted down in the page each second (the data is fetched again every 5 s).
        function countdown(seconds) {
          const s = el("span", "", "countdown");
          s.dataset.until = String(Date.now() + seconds * 1000);
          tick(s);
          return s;
        }
        function tick(s) {
          const left = Math.max(0, Math.round((Number(s.dataset.until) - Date.now()) / 1000));
          s.textContent = left >= 3600 ? Math.floor(left / 3600) + " h " + Math.floor(left % 3600 / 60) + " min" : left >= 60 ? Math.floor(left / 60) + " min " + left % 60 + " s" : left + " s";
        }
        setInterval(() => document.querySelectorAll(".countdown").forEach(tick), 1000);
        function health(name, status, c) {
          const cell = el("td", undefined, "health");
          if (!c.enabled) { cell.textContent = "disabled"; return cell; }
          const h = status.health.find(x => x.name === name);
          if (!h) cell.textContent = c.lastTest && !c.lastTest.ok ? "ok (last test failed: " + c.lastTest.message + ")" : "ok";
          else if (h.state === "cooling") {
            cell.append("cooling down");
            if (h.secondsLeft) cell.append(" (", countdown(h.secondsLeft), " left)");
            if (h.reason) cell.append(": " + h.reason);
          } else cell.textContent = h.state + (h.reason ? ": " + h.reason : "");
          // A subscription account's usage windows, as bars (and its credits, when the backend reports them).
          for (const w of c.quota || []) {
            const line = el("div", undefined, "quota");
            const bar = el("span", undefined, "bar" + (w.rejected || w.usedPercent >= 95 ? " full" : ""));
            const fill = el("span");
            fill.style.width = Math.max(0, Math.min(100, w.usedPercent)) + "%";
            bar.append(fill);
            line.append(w.name + " ", bar, " " + Math.round(w.usedPercent) + " %");
            if (w.resetsAtMillis) line.append(", resets in ", countdown(Math.max(0, (w.resetsAtMillis - Date.now()) / 1000)));
            cell.append(line);
          }
          if (c.credits) cell.append(el("div", c.credits.unlimited ? "unlimited credits" : c.credits.hasCredits ? "credits " + (c.credits.balance || "left") : "no credits", "quota"));
          return cell;
        }
        pages.overview = async () => {
          const today = new Date().toISOString().slice(0, 10);
          const [status, creds, usage] = await Promise.all([call("status"), call("credential.list"), call("usage", {since: today})]);
          const used = {};
          for (const u of usage) {
            if (u.day !== today) continue;
            const t = used[u.credential] || (used[u.credential] = {requests: 0, tokens: 0});
            t.requests += u.requests; t.tokens += u.inputTokens + u.outputTokens;
          }
          document.getElementById("daemon").textContent = "proxypoold " + status.version + " on " + status.listen + ", up " + status.uptimeSeconds + " s";
          const body = document.querySelector("#credentials tbody");
          body.replaceChildren();
          for (const c of creds) {
            const t = used[c.name] || {requests: 0, tokens: 0};
            const r = row([c.name, c.provider, c.secretRedacted, health(c.name, status, c), c.assignedTo.join(", ") || "pool",
                           t.requests + " requests, " + t.tokens + " tokens"]);
            r.dataset.name = c.name;
            r.append(td(
              button(c.enabled ? "Disable" : "Enable", () => call("credential.set-enabled", {name: c.name, enabled: !c.enabled})),
              button("Edit", () => editCredential(c)),
              button("Test", async () => { const t = await call("credential.test", {name: c.name}); if (!t.lastTest.ok) throw new Error(c.name + ": " + t.lastTest.message); }),
              button("Remove", async () => { if (confirm("Remove " + c.name + "?")) await call("credential.remove", {name: c.name, force: true}); })));
            body.append(r);
          }
          document.getElementById("empty").hidden = creds.length > 0;
        };
        // The form holds no secret: the key field starts empty and an empty one keeps the current key.
        function editCredential(c) {
          const form = document.getElementById("edit");
          document.getElementById("edit-name").textContent = c.name + " (" + c.provider + ")";
          form.elements.name.value = c.name;
          form.elements.secret.value = "";
          form.elements.secret.disabled = c.provider.endsWith("-account");
          form.elements.baseURL.value = c.baseURL || "";
          form.elements.baseURL.placeholder = "provider default";
          form.elements.defaultBase.checked = false;
          form.elements.free.checked = c.free;
          form.hidden = false;
        }
        document.getElementById("edit-cancel").onclick = () => { document.getElementById("edit").hidden = true; };
        onSubmit("edit", async (f, form) => {
          const params = {name: f.get("name"), free: f.get("free") === "on"};
          if (f.get("secret")) params.secret = f.get("secret");
          if (f.get("defaultBase") === "on") params.baseURL = "";
          else if (f.get("baseURL")) params.baseURL = f.get("baseURL");
          await call("credential.update", params);
          form.reset();
          form.hidden = true;
        });
        onSubmit("add", async (f, form) => {
          const params = {name: f.get("name"), provider: f.get("provider"), secret: f.get("secret")};
          if (f.get("baseURL")) params.baseURL = f.get("baseURL");
          await call("credential.add", params);
          form.reset();
        });

        """#

    private static let apps = #"""
        pages.apps = async () => {
          const [apps, chains, creds, keys, settings] = await Promise.all([call("app.list"), call("assignment.list"), call("credential.list"), call("key.list"), call("settings.get")]);
          const chainOf = {};
          for (const a of chains) chainOf[a.app] = a.credentials;
          const names = new Set(apps.map(a => a.app).concat(chains.map(a => a.app)));
          const body = document.querySelector("#app-table tbody");
          body.replaceChildren();
          for (const name of [...names].sort()) {
            const info = apps.find(a => a.app === name) || {requests: 0, lastSeen: "never"};
            const chain = chainOf[name] || [];
            const cell = el("td");
            chain.forEach((c, i) => {
              const item = el("span", c, "chain");
              const moved = (to) => { const next = chain.slice(); next.splice(i, 1); next.splice(to, 0, c); return call("assign", {app: name, credentials: next}); };
              if (i > 0) item.append(button("↑", () => moved(i - 1)));
              if (i < chain.length - 1) item.append(button("↓", () => moved(i + 1)));
              item.append(button("×", () => chain.length === 1 ? call("unassign", {app: name}) : call("assign", {app: name, credentials: chain.filter(x => x !== c)})));
              cell.append(item, " ");
            });
            if (chain.length === 0) cell.textContent = "the pool";
            const r = row([name, info.requests, info.lastSeen, info.recognisedBy || "not since the daemon started", cell]);
            r.dataset.app = name;
            r.append(td(chain.length ? button("Unassign", () => call("unassign", {app: name})) : ""));
            body.append(r);
          }
          const select = document.querySelector("#assign select");
          select.replaceChildren(...creds.map(c => el("option", c.name)));
          const fallback = document.getElementById("fallback");
          fallback.checked = settings.fallbackToPool;
          fallback.onchange = async () => { try { await call("settings.set", {key: "fallback_to_pool", value: fallback.checked}); showError(null); } catch (e) { showError(e); } };
          const keyBody = document.querySelector("#key-table tbody");
          keyBody.replaceChildren();
          for (const k of keys) {
            keyBody.append(row([k.id, k.app || "any", "ppk_…" + k.suffix, k.createdAt, k.lastUsedAt || "never", td(button("Revoke", () => call("key.revoke", {id: k.id})))]));
          }
        };
        onSubmit("assign", async (f) => {
          const app = f.get("app"), cred = f.get("credential");
          const chains = await call("assignment.list");
          const chain = (chains.find(a => a.app === app) || {credentials: []}).credentials.filter(c => c !== cred);
          await call("assign", {app: app, credentials: chain.concat([cred])});
        });
        onSubmit("key", async (f) => {
          const k = await call("key.create", f.get("app") ? {app: f.get("app")} : {});
          const p = document.getElementById("new-key");
          p.textContent = "New key " + k.id + " (shown once, copy it now): " + k.key;
          p.hidden = false;
        });

        """#

    private static let models = #"""
        const tiers = ["flagship", "standard", "fast", "reasoning"];
        pages.models = async () => {
          const [entries, aliases, settings, rules] = await Promise.all([call("tier.list"), call("alias.list"), call("settings.get"), call("tier-rule.list")]);
          document.querySelector("#rule-table tbody").replaceChildren(...rules.map(r => row([r.id, r.pattern, r.tier, td(button("Remove", () => call("tier-rule.remove", {id: r.id})))])));
          const byOwner = new Map();
          for (const e of entries) {
            const owner = e.credential ? "credential " + e.credential : e.provider;
            if (!byOwner.has(owner)) byOwner.set(owner, {entries: {}, credential: e.credential, provider: e.provider});
            byOwner.get(owner).entries[e.tier] = e;
          }
          const body = document.querySelector("#tier-table tbody");
          body.replaceChildren();
          for (const [owner, o] of byOwner) {
            const r = row([owner]);
            for (const t of tiers) {
              const e = o.entries[t] || {};
              const input = el("input");
              input.value = e.model || "";
              input.placeholder = "none";
              input.title = e.source === "user" ? "set by you; empty: back to the default" : "built-in";
              input.onchange = async () => {
                const params = o.credential ? {credential: o.credential} : {provider: o.provider};
                params.tier = t;
                params.model = input.value.trim() || null;
                try { await call("tier.set", params); showError(null); } catch (err) { showError(err); }
                await show();
              };
              r.append(td(input));
            }
            body.append(r);
          }
          const aliasBody = document.querySelector("#alias-table tbody");
          aliasBody.replaceChildren(...aliases.map(a => row([a.name, a.model, td(button("Remove", () => call("alias.remove", {name: a.name})))])));
          const free = document.getElementById("free-models");
          free.checked = settings.freeModels;
          free.onchange = async () => { try { await call("settings.set", {key: "free_models", value: free.checked}); showError(null); } catch (e) { showError(e); } };
        };
        onSubmit("classify", async (f) => {
          const c = await call("tier.classify", {model: f.get("model")});
          document.getElementById("classified").textContent = c.model + " → " + c.tier + " (" + c.rule + ")";
        });
        onSubmit("rule", async (f, form) => { await call("tier-rule.add", {pattern: f.get("pattern"), tier: f.get("tier")}); form.reset(); });
        onSubmit("alias", async (f, form) => { await call("alias.set", {name: f.get("name"), model: f.get("model")}); form.reset(); });

        """#

    private static let usage = #"""
        pages.usage = async () => {
          const since = document.getElementById("since").value;
          const by = document.getElementById("by").value;
          const rows = await call("usage", since ? {since: since} : {});
          const sums = new Map(), days = new Map();
          for (const u of rows) {
            const key = u.day + "\u0000" + u[by];
            const s = sums.get(key) || {day: u.day, who: u[by] || "(none)", requests: 0, errors: 0, input: 0, output: 0, cached: 0};
            s.requests += u.requests; s.errors += u.errors; s.input += u.inputTokens; s.output += u.outputTokens; s.cached += u.cachedTokens;
            sums.set(key, s);
            days.set(u.day, (days.get(u.day) || 0) + u.requests);
          }
          document.querySelector("#usage-table th.by").textContent = by[0].toUpperCase() + by.slice(1);
          const body = document.querySelector("#usage-table tbody");
          body.replaceChildren(...[...sums.values()].map(s => row([s.day, s.who, s.requests, s.errors, s.input, s.output, s.cached])));
          // Requests per day as bars, drawn here (no chart library).
          const svg = document.getElementById("chart"), ns = "http://www.w3.org/2000/svg";
          svg.replaceChildren();
          const list = [...days.entries()].sort();
          const max = Math.max(1, ...list.map(d => d[1])), w = 800 / Math.max(1, list.length);
          list.forEach(([day, n], i) => {
            const h = 170 * n / max, bar = document.createElementNS(ns, "rect");
            bar.setAttribute("x", i * w + 2); bar.setAttribute("width", Math.max(1, w - 4)); bar.setAttribute("y", 180 - h); bar.setAttribute("height", h);
            const tip = document.createElementNS(ns, "title"); tip.textContent = day + ": " + n + " requests"; bar.append(tip);
            const label = document.createElementNS(ns, "text"); label.setAttribute("x", i * w + 2); label.setAttribute("y", 195); label.textContent = day.slice(5);
            svg.append(bar, label);
          });
        };
        document.getElementById("since").onchange = show;
        document.getElementById("by").onchange = show;

        """#

    private static let start = #"""
        show();
        setInterval(() => { if (current() === "overview") show(); }, 5000);

        """#
}
