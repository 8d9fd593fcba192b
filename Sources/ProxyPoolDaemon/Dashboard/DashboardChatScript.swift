/// The script of the two live pages: the live log (server-sent events from `/api/v0/live`) and the chat, which
/// streams a Chat Completions answer through the proxy's own route (`/api/v0/chat`) and shows each delta as it
/// arrives; Stop aborts the page's request, which cancels the upstream one.
enum DashboardChatScript {
    static let live = #"""
        let liveSource = null;
        function liveRow(e) {
          const r = row([e.at.slice(11, 19), e.app, e.model + (e.upstreamModel && e.upstreamModel !== e.model ? " → " + e.upstreamModel : ""),
                         e.credential, e.attempts, e.status, e.latencyMs, e.inputTokens + " / " + e.outputTokens, e.error || ""]);
          r.dataset.app = e.app; r.dataset.credential = e.credential;
          return r;
        }
        function liveFilter() {
          const f = document.getElementById("live-filter").value.trim();
          for (const r of document.querySelectorAll("#live-table tbody tr")) r.hidden = !!f && !(r.dataset.app.includes(f) || r.dataset.credential.includes(f));
        }
        pages.live = async () => {
          if (liveSource) return;
          const state = document.getElementById("live-state");
          liveSource = new EventSource("/api/v0/live?csrf=" + encodeURIComponent(csrf));
          liveSource.onopen = () => { state.textContent = "connected"; };
          liveSource.onerror = () => { state.textContent = "reconnecting…"; };
          liveSource.addEventListener("dropped", (ev) => { state.textContent = JSON.parse(ev.data).count + " requests not shown (the page fell behind)"; });
          liveSource.addEventListener("request", (ev) => {
            if (document.getElementById("live-pause").checked) return;
            const body = document.querySelector("#live-table tbody");
            body.prepend(liveRow(JSON.parse(ev.data)));
            while (body.children.length > 200) body.lastChild.remove();
            liveFilter();
          });
        };
        document.getElementById("live-filter").oninput = liveFilter;

        """#

    static let chat = #"""
        const conversation = [];
        let chatAbort = null;
        pages.chat = async () => {
          const select = document.getElementById("chat-target");
          if (select.options.length) return;
          const [creds, chains, entries] = await Promise.all([call("credential.list"), call("assignment.list"), call("tier.list")]);
          select.append(el("option", "the pool"));
          for (const a of chains) { const o = el("option", "app " + a.app); o.value = "app:" + a.app; select.append(o); }
          for (const c of creds) { const o = el("option", "credential " + c.name); o.value = "credential:" + c.name; select.append(o); }
          select.options[0].value = "";
          const models = () => {
            const [kind, name] = select.value.split(":");
            const cred = kind === "credential" ? creds.find(c => c.name === name) : null;
            const list = [...new Set(entries.filter(e => e.model && (!cred || e.credential === cred.name || (!e.credential && e.provider === cred.provider))).map(e => e.model))];
            document.getElementById("chat-models").replaceChildren(...list.map(m => { const o = el("option"); o.value = m; return o; }));
            if (!document.getElementById("chat-model").value && list.length) document.getElementById("chat-model").value = list[0];
          };
          select.onchange = models;
          models();
        };
        function bubble(cls, text) { const d = el("div", text, "msg " + cls); document.getElementById("conversation").append(d); return d; }
        function readImage(file) {
          return new Promise((ok, fail) => { const r = new FileReader(); r.onload = () => ok(r.result); r.onerror = () => fail(r.error); r.readAsDataURL(file); });
        }
        document.getElementById("chat-stop").onclick = () => { if (chatAbort) chatAbort.abort(); };
        document.getElementById("chat-form").addEventListener("submit", async (ev) => {
          ev.preventDefault();
          const text = document.getElementById("chat-message").value;
          const file = document.getElementById("chat-image").files[0];
          const content = file ? [{type: "text", text: text}, {type: "image_url", image_url: {url: await readImage(file)}}] : text;
          conversation.push({role: "user", content: content});
          bubble("user", text + (file ? " [image: " + file.name + "]" : ""));
          document.getElementById("chat-message").value = "";
          document.getElementById("chat-image").value = "";
          const system = document.getElementById("chat-system").value.trim();
          const messages = (system ? [{role: "system", content: system}] : []).concat(conversation);
          const params = {request: {model: document.getElementById("chat-model").value, stream: true, messages: messages}};
          const [kind, name] = document.getElementById("chat-target").value.split(":");
          if (kind === "credential") params.credential = name;
          if (kind === "app") params.app = name;
          const answer = bubble("assistant", "");
          const thinking = el("details"); thinking.append(el("summary", "reasoning")); const thoughts = el("span");
          thinking.append(thoughts); thinking.hidden = true;
          const said = el("span");
          answer.append(thinking, said);
          chatAbort = new AbortController();
          document.getElementById("chat-stop").disabled = false;
          document.getElementById("chat-send").disabled = true;
          try {
            const r = await fetch("/api/v0/chat", {method: "POST", signal: chatAbort.signal,
              headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(params)});
            if (!r.ok || !(r.headers.get("content-type") || "").startsWith("text/event-stream")) {
              const reply = await r.json().catch(() => ({}));
              throw new Error((reply.error && reply.error.message) || ("HTTP " + r.status));
            }
            const reader = r.body.getReader(), decoder = new TextDecoder();
            let buffer = "";
            for (;;) {
              const {value, done} = await reader.read();
              if (done) break;
              buffer += decoder.decode(value, {stream: true});
              let cut;
              while ((cut = buffer.indexOf("\n\n")) >= 0) {
                const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
                for (const line of event.split("\n")) {
                  if (!line.startsWith("data: ")) continue;
                  const data = line.slice(6);
                  if (data === "[DONE]") continue;
                  const chunk = JSON.parse(data);
                  if (chunk.error) throw new Error(chunk.error.message);
                  const delta = (chunk.choices && chunk.choices[0] && chunk.choices[0].delta) || {};
                  if (delta.content) said.textContent += delta.content;
                  const reasoning = delta.reasoning_content || delta.reasoning;
                  if (reasoning) { thoughts.textContent += reasoning; thinking.hidden = false; }
                }
              }
            }
            conversation.push({role: "assistant", content: said.textContent});
          } catch (e) {
            if (e.name === "AbortError") { answer.append(el("em", " (stopped)")); conversation.push({role: "assistant", content: said.textContent}); }
            else { answer.className = "msg error"; answer.textContent = String(e.message || e); conversation.pop(); }
          }
          chatAbort = null;
          document.getElementById("chat-stop").disabled = true;
          document.getElementById("chat-send").disabled = false;
        });

        """#
}
