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
        <body><nav><h1>proxypool</h1><a href="#overview">Overview</a><a href="#apps">Apps</a><a href="#models">Models</a><a href="#usage">Usage</a><a href="#live">Live log</a><a href="#chat">Chat</a></nav>
        <main><p id="error" role="alert" hidden></p>
        <section id="overview"><header><h2>Overview</h2><span id="daemon"></span></header>
        <table id="credentials"><thead><tr><th>Name</th><th>Provider</th><th>Key</th><th>Health</th><th>Apps</th><th>Today</th><th></th></tr></thead><tbody></tbody></table>
        <p id="empty" hidden>No credentials yet: add one below, or with <code>proxypoolctl credential add</code>.</p>
        <form id="add"><h3>Add a credential</h3>
        <label>Name <input name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._-]*"></label>
        <label>Provider <select name="provider"><option>openai</option><option>anthropic</option><option>gemini</option><option>azure-openai</option><option>openai-compatible</option></select></label>
        <label>Key <input name="secret" type="password" required autocomplete="off"></label>
        <label>Base URL <input name="baseURL" placeholder="provider default"></label>
        <button>Add</button></form>
        <form id="edit" hidden><h3>Edit <span id="edit-name"></span></h3><input type="hidden" name="name">
        <label>New key <input name="secret" type="password" autocomplete="off" placeholder="keep the current one"></label>
        <label>Base URL <input name="baseURL"></label><label><input type="checkbox" name="defaultBase"> provider default</label>
        <label><input type="checkbox" name="free"> free endpoint</label>
        <button>Save</button> <button type="button" id="edit-cancel">Cancel</button></form></section>
        <section id="apps" hidden><header><h2>Apps</h2></header>
        <table id="app-table"><thead><tr><th>App</th><th>Requests</th><th>Last seen</th><th>Recognised by</th><th>Chain (tried in order)</th><th></th></tr></thead><tbody></tbody></table>
        <form id="assign"><h3>Assign</h3><label>App <input name="app" required maxlength="64"></label>
        <label>Credential <select name="credential"></select></label><button>Add to the app's chain</button></form>
        <h3>Fallback</h3><p><label class="inline"><input type="checkbox" id="fallback"> Apps fall back from their chain to the whole pool</label></p>
        <h3>Access keys</h3><p id="new-key" hidden></p>
        <table id="key-table"><thead><tr><th>Id</th><th>App</th><th>Key</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody></tbody></table>
        <form id="key"><label>App <input name="app" maxlength="64" placeholder="any"></label><button>Create a key</button></form>
        <h3>Configure a tool</h3><p>Points the tool at this proxy through its own settings file, with an access key of its own; the change is shown before anything is written, and a backup is kept.</p>
        <p id="configure-buttons"><button type="button" data-tool="codex">Configure Codex CLI</button> <button type="button" data-tool="claude-code">Configure Claude Code</button>
        <button type="button" data-tool="gemini-cli">Configure Gemini CLI</button> <button type="button" data-tool="openclaw">Configure OpenClaw</button></p>
        <div id="configure" hidden><h4 id="configure-title"></h4><pre id="configure-diff"></pre><ul id="configure-notes"></ul>
        <p><button type="button" id="configure-write">Write these changes</button> <button type="button" id="configure-cancel">Close</button></p><p id="configure-done" hidden></p></div></section>
        <section id="models" hidden><header><h2>Models</h2></header>
        <form id="classify"><label>Model name <input name="model" required maxlength="200" placeholder="gpt-5.1-codex-mini"></label><button>Classify</button><output id="classified"></output></form>
        <p><label class="inline"><input type="checkbox" id="free-models"> Fast requests try free credentials first (free models)</label></p>
        <table id="tier-table"><thead><tr><th>Provider or credential</th><th>Flagship</th><th>Standard</th><th>Fast</th><th>Reasoning</th></tr></thead><tbody></tbody></table>
        <h3>Your tier rules (tried before the built-in ones)</h3><table id="rule-table"><thead><tr><th>Id</th><th>Pattern</th><th>Tier</th><th></th></tr></thead><tbody></tbody></table>
        <form id="rule"><label>Pattern <input name="pattern" required maxlength="200" placeholder="qwen3* or a word"></label>
        <label>Tier <select name="tier"><option>flagship</option><option>standard</option><option>fast</option><option>reasoning</option></select></label><button>Add rule</button></form>
        <h3>Aliases</h3><table id="alias-table"><thead><tr><th>Name</th><th>Model</th><th></th></tr></thead><tbody></tbody></table>
        <form id="alias"><label>Name <input name="name" required maxlength="200"></label><label>Model <input name="model" required maxlength="200"></label><button>Set alias</button></form></section>
        <section id="usage" hidden><header><h2>Usage</h2><label class="inline">since <input type="date" id="since"></label>
        <label class="inline">by <select id="by"><option>app</option><option>credential</option><option>model</option></select></label></header>
        <svg id="chart" role="img" aria-label="requests per day" viewBox="0 0 800 200" preserveAspectRatio="none"></svg>
        <table id="usage-table"><thead><tr><th>Day</th><th class="by">App</th><th>Requests</th><th>Errors</th><th>Input tokens</th><th>Output tokens</th><th>Cached</th></tr></thead><tbody></tbody></table></section>
        <section id="live" hidden><header><h2>Live log</h2><label class="inline"><input type="checkbox" id="live-pause"> Pause</label>
        <label class="inline">Filter <input id="live-filter" placeholder="app or credential"></label><span id="live-state"></span></header>
        <table id="live-table"><thead><tr><th>Time</th><th>App</th><th>Model → upstream</th><th>Credential</th><th>Attempts</th><th>Status</th><th>ms</th><th>Tokens in/out</th><th>Error</th></tr></thead><tbody></tbody></table></section>
        <section id="chat" hidden><header><h2>Chat</h2>
        <label class="inline">Route <select id="chat-target"></select></label>
        <label class="inline">Model <input id="chat-model" list="chat-models" placeholder="model name"><datalist id="chat-models"></datalist></label></header>
        <label>System prompt <textarea id="chat-system" rows="2"></textarea></label>
        <div id="conversation"></div>
        <form id="chat-form"><textarea name="message" id="chat-message" rows="3" required placeholder="Write a message"></textarea>
        <label class="inline">Image <input type="file" id="chat-image" accept="image/png,image/jpeg,image/gif,image/webp"></label>
        <button id="chat-send">Send</button><button type="button" id="chat-stop" disabled>Stop</button></form></section>
        </main>
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

    static let style = Array("""
        body { margin: 0; display: flex; font: 14px/1.4 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; min-height: 100vh; }
        nav { width: 180px; padding: 16px; background: #1d2430; color: #fff; flex-shrink: 0; }
        nav h1 { font-size: 18px; margin: 0 0 16px; } nav a { display: block; color: #cfd6e0; text-decoration: none; padding: 4px 0; }
        nav a.on { color: #fff; font-weight: 600; } section header { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
        label.inline { flex-direction: row; display: inline-flex; gap: 6px; align-items: center; } #chart { width: 100%; height: 200px; background: #fff; margin: 8px 0; }
        #chart rect { fill: #3b6fd8; } #chart text { font-size: 10px; fill: #5b6676; } #new-key, #configure-done { background: #e8f4e8; padding: 8px; font-family: monospace; }
        #configure-diff { background: #fff; padding: 8px; overflow-x: auto; max-height: 420px; }
        output { margin-left: 8px; } td input { width: 12em; } textarea { width: 100%; box-sizing: border-box; font: inherit; }
        #conversation { margin: 12px 0; display: flex; flex-direction: column; gap: 8px; } .msg { padding: 8px 12px; background: #fff; border-radius: 6px; white-space: pre-wrap; }
        .msg.user { align-self: flex-end; background: #e4ecfb; max-width: 80%; } .msg.error { color: #a11; background: #fde8e8; } .msg details { color: #5b6676; }
        main { flex: 1; padding: 16px 24px; min-width: 0; }
        header { display: flex; gap: 16px; align-items: baseline; } #daemon { color: #5b6676; }
        table { border-collapse: collapse; width: 100%; background: #fff; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e6ea; }
        td button { margin-right: 4px; } #error { color: #a11; background: #fde8e8; padding: 8px; }
        form { margin-top: 24px; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; } form h3 { width: 100%; margin: 0; }
        label { display: flex; flex-direction: column; gap: 2px; }
        .quota { color: #5b6676; font-size: 12px; white-space: nowrap; }
        .bar { display: inline-block; width: 80px; height: 8px; background: #e3e6ea; border-radius: 4px; overflow: hidden; vertical-align: middle; }
        .bar span { display: block; height: 100%; background: #3b6fd8; } .bar.full span { background: #c0392b; }
        @media (max-width: 700px) { body { flex-direction: column; } nav { width: auto; } }

        """.utf8)
}
