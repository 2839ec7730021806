#!/usr/bin/env node
// Glass-to-glass reader: plays an LL-HLS URL with hls.js in headless Chromium, reads the clock
// code that g2g_publisher.py painted into every frame, and prints ONE JSON line with latency
// percentiles.
//
//   node bench/g2g_reader.mjs --url URL --epoch EPOCH_MS [--frames 600] [--skip 5] [--timeout 120]
//
// For each presented frame (requestVideoFrameCallback) the page copies the code strip from the
// <video> to a canvas, decodes the 40 blocks (32-bit value + XOR check byte) and records
// `display time - (EPOCH_MS + value)`, where the display time is the frame's expected display
// time on the page's clock (the wall clock, shared with the publisher on this machine).
// The first `--skip` seconds of playback are not counted (start-up, hls.js catching up to
// its target latency). hls.js's own `latency` estimate is sampled every 500 ms as a cross-check.
// Uses playwright-core and hls.js from tests/browser/node_modules (`npm ci` there).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BROWSER_DIR = path.join(HERE, '..', 'tests', 'browser');
const CHROMIUM = process.env.REELAY_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required', '--mute-audio'];

function args() {
  const a = { frames: 600, skip: 5, timeout: 120 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) a[argv[i].replace(/^--/, '')] = argv[i + 1];
  if (!a.url || !a.epoch) {
    process.stderr.write('usage: g2g_reader.mjs --url URL --epoch EPOCH_MS [--frames N] [--skip S] [--timeout S]\n');
    process.exit(2);
  }
  for (const k of ['frames', 'skip', 'timeout', 'epoch']) a[k] = Number(a[k]);
  return a;
}

// Runs in the page.
const PAGE_SCRIPT = `
'use strict';
window.g2g = { samples: [], invalid: 0, hlsLatency: [], errors: [], startedAt: null, playing: false };
window.g2gStart = function (url, epoch) {
  const g = window.g2g;
  const video = document.getElementById('video');
  const canvas = document.createElement('canvas');
  canvas.width = 320; canvas.height = 32;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, (_, d) => { if (g.errors.length < 50) g.errors.push({ fatal: d.fatal, details: d.details }); });
  hls.loadSource(url);
  hls.attachMedia(video);
  video.play().catch(() => {});
  setInterval(() => {
    if (g.playing && typeof hls.latency === 'number' && hls.latency > 0) g.hlsLatency.push(hls.latency);
    const b = video.buffered;
    g.state = { currentTime: video.currentTime, bufferedEnd: b.length ? b.end(b.length - 1) : null,
      liveSyncPosition: hls.liveSyncPosition, targetLatency: hls.targetLatency, latency: hls.latency,
      playbackRate: video.playbackRate };
  }, 500);
  const onFrame = (now, meta) => {
    if (!g.playing) { g.playing = true; g.startedAt = Date.now(); }
    // The display time on the wall clock: the page's time origin plus the frame's expected
    // display time on the performance clock.
    const shown = performance.timeOrigin + (meta.expectedDisplayTime || now);
    ctx.drawImage(video, 0, 0, 320, 32, 0, 0, 320, 32);
    const px = ctx.getImageData(0, 0, 320, 32).data;
    const bits = [];
    for (let i = 0; i < 40; i++) {
      const x = (i % 20) * 16 + 8, y = Math.floor(i / 20) * 16 + 8;
      bits.push(px[(y * 320 + x) * 4] > 128 ? 1 : 0);
    }
    let value = 0;
    for (let i = 0; i < 32; i++) value = value * 2 + bits[i];
    let check = 0;
    for (let i = 32; i < 40; i++) check = check * 2 + bits[i];
    const x = ((value >>> 24) ^ (value >>> 16) ^ (value >>> 8) ^ value) & 0xff;
    if (x === check) g.samples.push({ at: Date.now(), latency: shown - (epoch + value) });
    else g.invalid++;
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
};
`;

function pct(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * q))];
}

async function main() {
  const a = args();
  const require = createRequire(path.join(BROWSER_DIR, 'package.json'));
  const { chromium } = require('playwright-core');
  const hlsJs = fs.readFileSync(path.join(BROWSER_DIR, 'node_modules', 'hls.js', 'dist', 'hls.min.js'));
  const server = http.createServer((req, res) => {
    if (req.url === '/hls.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(hlsJs);
    }
    if (req.url === '/g2g.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(PAGE_SCRIPT);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end('<!doctype html><html><body><video id="video" muted autoplay playsinline width="640" height="360">'
      + '</video><script src="/hls.js"></script><script src="/g2g.js"></script></body></html>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelay-g2g-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 800, height: 450 },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const supported = await page.evaluate(() => window.MediaSource
      && MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f,mp4a.40.2"'));
    if (!supported) throw new Error('this Chromium cannot decode H.264 through MediaSource');
    await page.evaluate(([u, e]) => window.g2gStart(u, e), [a.url, a.epoch]);
    const deadline = Date.now() + a.timeout * 1000;
    let g;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      g = await page.evaluate(() => window.g2g);
      const counted = g.startedAt ? g.samples.filter((s) => s.at >= g.startedAt + a.skip * 1000) : [];
      if (counted.length >= a.frames || Date.now() > deadline || g.errors.some((e) => e.fatal)) {
        g.counted = counted;
        break;
      }
    }
    const lat = g.counted.map((s) => s.latency).sort((x, y) => x - y);
    const hlsLat = g.hlsLatency.slice().sort((x, y) => x - y);
    const result = {
      frames: lat.length,
      invalid_frames: g.invalid,
      latency_ms: { p50: pct(lat, 0.5), p95: pct(lat, 0.95), p99: pct(lat, 0.99), min: lat[0] ?? null, max: lat[lat.length - 1] ?? null },
      hlsjs_latency_s: { p50: pct(hlsLat, 0.5), samples: hlsLat.length },
      errors: g.errors,
      player_state: g.state,
      chromium: context.browser()?.version() ?? null,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
    return lat.length >= a.frames ? 0 : 1;
  } finally {
    await context.close().catch(() => {});
    server.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`g2g_reader.mjs: ${e && e.stack || e}\n`); process.exit(2); });
