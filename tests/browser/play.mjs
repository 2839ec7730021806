#!/usr/bin/env node
// Plays one URL with a real web player in headless Chromium and prints ONE JSON line.
//
//   node tests/browser/play.mjs --player hlsjs|dashjs|dashjs-mss|shaka --url URL [--seconds 6] [--timeout 40]
//
// The player page and the player libraries are served by a tiny HTTP server of this process on
// another port of 127.0.0.1, so media requests to the server under test are cross-origin and go
// through CORS exactly as for a player embedded in someone's web page. (A page on a fake public
// origin would instead be stopped by Chromium's private network access rules before CORS: a
// non-secure public page may not fetch from loopback. 127.0.0.1 is a secure context.)
//
// ok = no fatal player error, no error on the <video> element, and currentTime advanced by at
// least `seconds - 1.5` during `seconds` of wall-clock playback. Exit status: 0 ok, 1 not ok,
// 2 the harness itself failed (bad arguments, browser did not start).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.REELAY_CHROMIUM || '/usr/bin/chromium';
// Each player's scripts, in load order, relative to node_modules.
const LIBS = {
  hlsjs: ['hls.js/dist/hls.min.js'],
  dashjs: ['dashjs/dist/dash.all.min.js'],
  'dashjs-mss': ['dashjs/dist/dash.all.min.js', 'dashjs/dist/dash.mss.min.js'],
  shaka: ['shaka-player/dist/shaka-player.compiled.js'],
};
const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
  '--mute-audio',
];

function usage(msg) {
  process.stderr.write(`${msg}\nusage: play.mjs --player ${Object.keys(LIBS).join('|')} --url URL `
    + '[--seconds 6] [--timeout 40]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = { seconds: 6, timeout: 40 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[i + 1];
    if (!['--player', '--url', '--seconds', '--timeout'].includes(key) || value === undefined) {
      usage(`bad argument: ${key}`);
    }
    args[key.slice(2)] = value;
    i++;
  }
  if (!LIBS[args.player]) usage(`unknown player: ${args.player}`);
  if (!args.url || !/^https?:\/\//.test(args.url)) usage('--url must be an http(s) URL');
  args.seconds = Number(args.seconds);
  args.timeout = Number(args.timeout);
  if (!(args.seconds > 0) || !(args.timeout > args.seconds)) usage('need 0 < seconds < timeout');
  return args;
}

function page(player) {
  const scripts = LIBS[player].map((lib) => `<script src="/lib/${lib}"></script>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>reelay player test</title></head>
<body>
<video id="video" muted autoplay playsinline width="640" height="360"></video>
${scripts}
<script src="/page.js"></script>
</body></html>`;
}

// Files the fake origin serves: the page, page.js and files under node_modules (nothing else).
function serveFile(urlPath) {
  let file;
  if (urlPath === '/page.js') file = path.join(HERE, 'page.js');
  else if (urlPath.startsWith('/lib/')) {
    const rel = path.normalize(decodeURIComponent(urlPath.slice('/lib/'.length)));
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    file = path.join(HERE, 'node_modules', rel);
  } else return null;
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    process.stderr.write(`playwright-core is missing: run \`npm ci\` in tests/browser (${e.message})\n`);
    process.exit(2);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-chromium-'));
  const harnessErrors = [];
  const requests = { total: 0, byStatus: {}, aborted: [] };
  let context;
  let origin;
  const pageServer = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/' || u.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(page(args.player));
    }
    if (u.pathname === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    const body = serveFile(u.pathname);
    if (body === null) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    return res.end(body);
  });
  const hardDeadline = setTimeout(() => {
    process.stderr.write(`play.mjs: hard timeout after ${args.timeout + 30} s\n`);
    fs.rmSync(userDataDir, { recursive: true, force: true });
    process.exit(2);
  }, (args.timeout + 30) * 1000);
  try {
    await new Promise((resolve, reject) => {
      pageServer.once('error', reject);
      pageServer.listen(0, '127.0.0.1', resolve);
    });
    origin = `http://127.0.0.1:${pageServer.address().port}`;
    try {
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 800, height: 450 },
      });
    } catch (e) {
      const version = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' });
      process.stderr.write(`chromium did not start (${CHROMIUM}: ${(version.stdout || version.error || '').toString()
        .trim()}): ${e.message}\n`);
      fs.rmSync(userDataDir, { recursive: true, force: true });
      process.exit(2);
    }
    const pg = context.pages()[0] || await context.newPage();
    const isMedia = (url) => !url.startsWith(origin + '/');
    pg.on('console', (msg) => {
      if (msg.type() === 'error') harnessErrors.push({ source: 'console', fatal: false, message: msg.text().slice(0, 500) });
    });
    pg.on('pageerror', (err) => harnessErrors.push({ source: 'pageerror', fatal: false, message: String(err).slice(0, 500) }));
    pg.on('requestfailed', (req) => {
      if (!isMedia(req.url())) return;
      const failure = req.failure()?.errorText;
      // A request the player cancelled itself (a seek, a quality switch) is its decision, not a
      // failure of the server: counted apart. CORS refusals and network errors are errors.
      if (failure === 'net::ERR_ABORTED') requests.aborted.push(req.url());
      else harnessErrors.push({ source: 'request', fatal: false, url: req.url(), failure });
    });
    pg.on('response', (res) => {
      if (!isMedia(res.url())) return;
      requests.total++;
      requests.byStatus[res.status()] = (requests.byStatus[res.status()] || 0) + 1;
      if (res.status() >= 400) {
        harnessErrors.push({ source: 'response', fatal: false, url: res.url(), status: res.status() });
      }
    });

    const start = Date.now();
    await pg.goto(`${origin}/`, { waitUntil: 'load', timeout: args.timeout * 1000 });
    await pg.evaluate(([player, url]) => window.reelayStart(player, url), [args.player, args.url]);
    const deadline = start + args.timeout * 1000;
    const snap = () => pg.evaluate(() => window.reelaySnapshot());

    // Phase 1: wait for playback to start (time moving on an unpaused element).
    let s = await snap();
    let startupSeconds = null;
    let from = null;
    while (Date.now() < deadline && !s.fatal) {
      if (!s.paused && s.currentTime > 0 && s.readyState >= 3) {
        startupSeconds = (Date.now() - start) / 1000;
        from = { wall: Date.now(), currentTime: s.currentTime };
        break;
      }
      await sleep(100);
      s = await snap();
    }
    // Phase 2: play for `seconds` of wall time.
    if (from) {
      const until = Math.min(deadline, from.wall + args.seconds * 1000);
      while (Date.now() < until && !s.fatal) {
        await sleep(Math.min(250, Math.max(1, until - Date.now())));
        s = await snap();
      }
    }
    const wallSeconds = from ? (Date.now() - from.wall) / 1000 : 0;
    const advanced = from ? s.currentTime - from.currentTime : 0;
    const reasons = [];
    if (s.fatal) reasons.push(`fatal ${s.fatal.source} error`);
    if (s.videoError) reasons.push(`video element error ${s.videoError.code}: ${s.videoError.message}`);
    if (!from) reasons.push(`playback did not start within ${args.timeout} s`);
    else if (advanced < args.seconds - 1.5) {
      reasons.push(`currentTime advanced ${advanced.toFixed(2)} s in ${wallSeconds.toFixed(2)} s of playback`);
    }
    const result = {
      ok: reasons.length === 0,
      reasons,
      player: args.player,
      url: args.url,
      currentTime: s.currentTime,
      startTime: from ? from.currentTime : null,
      advanced: Math.round(advanced * 1000) / 1000,
      wallSeconds,
      startupSeconds,
      duration: s.duration,
      videoWidth: s.videoWidth,
      videoHeight: s.videoHeight,
      buffered: s.buffered,
      loadMode: s.loadMode,
      tracks: s.tracks,
      // hls.js's estimate of the distance to the live edge; meaningless for VOD.
      latency: s.tracks && s.tracks.live && typeof s.tracks.latency === 'number' ? s.tracks.latency : null,
      fatal: s.fatal,
      errors: [...s.errors, ...harnessErrors].slice(0, 100),
      events: s.events,
      eventCounts: s.counts,
      requests,
      chromium: context.browser()?.version() ?? null,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
    return result.ok ? 0 : 1;
  } finally {
    clearTimeout(hardDeadline);
    if (context) await context.close().catch(() => {});
    pageServer.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`play.mjs failed: ${e && e.stack || e}\n`);
  process.exit(2);
});
