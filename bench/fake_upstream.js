// njs handlers for the benchmark's fake upstream (nginx + njs). JSON answers use plain `return` in the
// nginx config (fastest path); these handle the fast SSE stream and the forwarding check.
const crypto = require('crypto');

const N_EVENTS = 20;
const events = [];
for (let i = 0; i < N_EVENTS; i++) {
    const last = i === N_EVENTS - 1;
    const chunk = {
        id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'bench-sse',
        choices: [{ index: 0, delta: last ? {} : (i === 0 ? { role: 'assistant', content: 'tok0 ' } : { content: 'tok' + i + ' ' }),
                    finish_reason: last ? 'stop' : null }],
    };
    if (last) chunk.usage = { prompt_tokens: 250, completion_tokens: 19, total_tokens: 269 };
    events.push('data: ' + JSON.stringify(chunk) + '\n\n');
}
events.push('data: [DONE]\n\n');

// A fast stream: 21 events (20 chunks + [DONE]), each sent as its own chunk.
function sse(r) {
    r.status = 200;
    r.headersOut['Content-Type'] = 'text/event-stream';
    r.headersOut['Cache-Control'] = 'no-cache';
    r.sendHeader();
    for (let i = 0; i < events.length; i++) r.send(events[i]);
    r.finish();
}

// Reports what arrived, so the harness can check a proxy forwards the body intact and swaps the key.
function check(r) {
    const body = r.requestBuffer || Buffer.from('');
    const md5 = crypto.createHash('md5').update(body).digest('hex');
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify({ len: body.length, md5: md5, authorization: r.headersIn['Authorization'] || '',
                                   x_api_key: r.headersIn['x-api-key'] || '', method: r.method, uri: r.uri }));
}

export default { sse, check };
