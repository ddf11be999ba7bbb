'use strict';
/**
 * The demo's users: a loop of requests to the gateway, a mix of normal chat turns (OpenAI and
 * Anthropic models), tool calls, slow reasoning answers, failures and clients that leave
 * mid-stream. The first round sends one of each, so a short run shows every case. Plain node:http,
 * untraced: the gateway's server span is each trace's root.
 */
const http = require('node:http');

const QUESTIONS = [
  'Why should I trace an LLM service?',
  'What is time to first token and why does it matter?',
  'How does prompt caching lower my bill?',
  'Why does a streamed response need its span to end late?',
  'How should I retry when the provider is rate limiting me?',
];
const CITIES = ['Paris', 'London', 'Tokyo', 'Berlin', 'Lisbon'];
const pick = (list) => list[Math.floor(Math.random() * list.length)];

/** The cases; `weight` sets how often each comes up after the first round. */
const CASES = [
  { name: 'normal', weight: 5, body: () => ({ message: pick(QUESTIONS), model: 'gpt-5.4-mini' }) },
  { name: 'anthropic', weight: 2, body: () => ({ message: pick(QUESTIONS), provider: 'anthropic', model: 'claude-haiku-4-5' }) },
  { name: 'tool-call', weight: 2, body: () => ({ message: `What's the weather in ${pick(CITIES)} right now?`, model: 'gpt-5.4' }) },
  { name: 'slow', weight: 1, body: () => ({ message: 'Think step by step: why is my first token slow?', model: 'o4-mini' }) },
  { name: 'error', weight: 1, body: () => ({ message: pick(QUESTIONS), model: 'gpt-5.4-mini', scenario: 'error' }) },
  { name: 'midstream-error', weight: 1, body: () => ({ message: pick(QUESTIONS), provider: 'anthropic', model: 'claude-sonnet-4-6', scenario: 'midstream-error' }) },
  { name: 'client-abort', weight: 1, abortAfterEvents: 4, body: () => ({ message: 'Tell me a long story about a request.', model: 'gpt-5.4-mini' }) },
  { name: 'conversation', weight: 2, get: () => `/api/conversations/c-${1000 + Math.floor(Math.random() * 50)}` },
];

/**
 * One request of a case. Resolves with { case, status, ms, events, aborted }; never rejects.
 */
function send(base, c) {
  const started = Date.now();
  return new Promise((resolve) => {
    const url = new URL(c.get ? c.get() : '/api/chat', base);
    const body = c.body ? JSON.stringify(c.body()) : undefined;
    let events = 0;
    let done = false;
    const finish = (status, aborted = false) => {
      if (done) return;
      done = true;
      resolve({ case: c.name, status, ms: Date.now() - started, events, aborted });
    };
    const req = http.request(url, {
      method: body ? 'POST' : 'GET',
      headers: { 'x-demo-case': c.name, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
      agent: false,
    }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        const parts = buf.split('\n\n');
        buf = parts.pop();
        events += parts.length;
        if (c.abortAfterEvents && events >= c.abortAfterEvents) {
          // The user closed the tab mid-answer.
          req.destroy();
          finish(res.statusCode, true);
        }
      });
      res.on('end', () => finish(res.statusCode));
      res.on('error', () => finish(res.statusCode, true));
    });
    req.on('error', () => finish(0, c.abortAfterEvents !== undefined));
    req.setTimeout(30000, () => req.destroy());
    if (body) req.write(body);
    req.end();
  });
}

function weighted() {
  const total = CASES.reduce((n, c) => n + c.weight, 0);
  let r = Math.random() * total;
  for (const c of CASES) if ((r -= c.weight) < 0) return c;
  return CASES[0];
}

/**
 * Sends requests until `signal` aborts: first one of each case, then a weighted mix, with a pause
 * of 0.3-1.2 s between requests and sometimes two at once. `onResult` sees each outcome.
 */
async function runTraffic({ gatewayUrl, signal, onResult = () => {} }) {
  const sleep = (ms) => new Promise((resolve) => {
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
  const inFlight = new Set();
  const launch = (c) => {
    const p = send(gatewayUrl, c).then(onResult);
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
    return p;
  };
  for (const c of CASES) {
    if (signal.aborted) break;
    await launch(c);
    await sleep(150);
  }
  while (!signal.aborted) {
    launch(weighted());
    if (Math.random() < 0.25) launch(weighted());
    await sleep(300 + Math.random() * 900);
  }
  await Promise.all(inFlight);
}

module.exports = { runTraffic, CASES, send };
