// Browser side of play.mjs: attaches one player library to the page's <video> and records what
// happens. Loaded into a page served from another origin than the media, so every media request to the server
// under test is cross-origin and goes through CORS like it does for a real web player.
//
// The Node runner calls `window.reelayStart(player, url)` and then polls `window.reelaySnapshot()`.
'use strict';

(function () {
  const MAX_EVENTS = 200;
  const MAX_ERRORS = 100;
  const state = {
    player: null,
    url: null,
    fatal: null,
    errors: [],
    events: [],
    counts: {},
    loadMode: null,
  };
  let instance = null;
  const t0 = performance.now();

  function elapsed() {
    return Math.round(performance.now() - t0) / 1000;
  }

  function event(name, detail) {
    state.counts[name] = (state.counts[name] || 0) + 1;
    // Repeated progress events would drown the rest: keep the first few of each kind.
    if (state.events.length < MAX_EVENTS && state.counts[name] <= 5) {
      const e = { t: elapsed(), name };
      if (detail !== undefined) e.detail = detail;
      state.events.push(e);
    }
  }

  function error(source, fatal, detail) {
    if (state.errors.length < MAX_ERRORS) {
      state.errors.push({ t: elapsed(), source, fatal, ...detail });
    }
    if (fatal && !state.fatal) state.fatal = { source, ...detail };
  }

  const video = document.getElementById('video');
  for (const name of ['loadedmetadata', 'canplay', 'playing', 'waiting', 'stalled', 'seeking', 'seeked',
    'ended', 'pause', 'ratechange', 'resize']) {
    video.addEventListener(name, () => event('video.' + name, { currentTime: video.currentTime }));
  }
  video.addEventListener('error', () => {
    const e = video.error;
    error('video', true, { code: e && e.code, message: e && e.message });
  });

  function startHlsjs(url) {
    const Hls = window.Hls;
    if (!Hls || !Hls.isSupported()) throw new Error('hls.js: MediaSource playback is not supported here');
    // lowLatencyMode is the default in hls.js 1.x; say it so LL-HLS (parts, blocking reloads) is used.
    const hls = new Hls({ lowLatencyMode: true, enableWorker: true });
    instance = hls;
    for (const name of ['MANIFEST_LOADED', 'MANIFEST_PARSED', 'LEVEL_LOADED', 'LEVEL_SWITCHED',
      'AUDIO_TRACK_SWITCHED', 'FRAG_BUFFERED', 'BUFFER_CODECS', 'BUFFER_EOS']) {
      hls.on(Hls.Events[name], (_, data) => {
        let detail;
        if (name === 'LEVEL_LOADED') {
          detail = { live: data.details.live, targetduration: data.details.targetduration,
            fragments: data.details.fragments.length, partTarget: data.details.partTarget || 0 };
        } else if (name === 'FRAG_BUFFERED') {
          detail = { type: data.frag.type, sn: data.frag.sn, part: data.part ? data.part.index : null };
        } else if (name === 'BUFFER_CODECS') {
          detail = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v && v.codec]));
        }
        event('hls.' + name, detail);
      });
    }
    hls.on(Hls.Events.ERROR, (_, data) => {
      const detail = { type: data.type, details: data.details };
      if (data.reason) detail.reason = String(data.reason);
      if (data.error) detail.message = String(data.error.message || data.error);
      const ctxUrl = (data.frag && data.frag.url) || (data.context && data.context.url) || data.url;
      if (ctxUrl) detail.url = ctxUrl;
      if (data.response) detail.response = { code: data.response.code, text: data.response.text };
      error('hls.js', !!data.fatal, detail);
    });
    hls.attachMedia(video);
    hls.loadSource(url);
    state.loadMode = 'MEDIA_SOURCE';
  }

  function startDashjs(url, mss) {
    const dashjs = window.dashjs;
    if (!dashjs) throw new Error('dash.js did not load');
    if (mss && typeof dashjs.MssHandler !== 'function') throw new Error('dash.js MSS module did not load');
    const player = dashjs.MediaPlayer().create();
    instance = player;
    player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
    const ev = dashjs.MediaPlayer.events;
    for (const name of ['MANIFEST_LOADED', 'STREAM_INITIALIZED', 'PLAYBACK_STARTED', 'QUALITY_CHANGE_RENDERED',
      'FRAGMENT_LOADING_COMPLETED', 'BUFFER_LOADED', 'PLAYBACK_ENDED']) {
      if (!ev[name]) continue;
      player.on(ev[name], (e) => {
        let detail;
        if (name === 'FRAGMENT_LOADING_COMPLETED' && e.request) {
          detail = { mediaType: e.request.mediaType, type: e.request.type, index: e.request.index };
        } else if (name === 'MANIFEST_LOADED' && e.data) {
          detail = { type: e.data.type, protocol: e.data.protocol || null };
        }
        event('dash.' + name, detail);
      });
    }
    // dash.js reports unrecoverable problems as `error` events; playback errors of the media
    // element come as `playbackError`.
    player.on(ev.ERROR, (e) => {
      const err = e.error || {};
      const data = err.data || {};
      const url = data.url || (data.request && data.request.url);
      error('dash.js', true, { code: err.code, message: String(err.message || ''), url: url ? String(url) : undefined });
    });
    if (ev.PLAYBACK_ERROR) {
      player.on(ev.PLAYBACK_ERROR, (e) => {
        error('dash.js', true, { message: 'playbackError', code: e.error && e.error.code });
      });
    }
    player.initialize(video, url, true);
    state.loadMode = 'MEDIA_SOURCE';
  }

  async function startShaka(url) {
    const shaka = window.shaka;
    if (!shaka) throw new Error('shaka-player did not load');
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) throw new Error('shaka-player: browser not supported');
    const player = new shaka.Player();
    instance = player;
    // This Chromium also plays HLS natively; keep shaka on MediaSource so its own parsers are tested.
    player.configure({ streaming: { preferNativeHls: false } });
    player.addEventListener('error', (e) => {
      const d = e.detail || {};
      error('shaka', d.severity === shaka.util.Error.Severity.CRITICAL, {
        code: d.code, category: d.category, severity: d.severity, data: safeData(d.data),
      });
    });
    for (const name of ['loaded', 'trackschanged', 'adaptation', 'variantchanged', 'buffering', 'streaming']) {
      player.addEventListener(name, (e) => event('shaka.' + name,
        name === 'buffering' ? { buffering: e.buffering } : undefined));
    }
    await player.attach(video);
    try {
      await player.load(url);
    } catch (e) {
      error('shaka', true, { code: e.code, category: e.category, severity: e.severity, data: safeData(e.data) });
      return;
    }
    const modes = shaka.Player.LoadMode;
    const mode = player.getLoadMode();
    state.loadMode = Object.keys(modes).find((k) => modes[k] === mode) || String(mode);
    video.play().catch((e) => error('video.play', false, { message: String(e) }));
  }

  function safeData(data) {
    if (!Array.isArray(data)) return undefined;
    return data.slice(0, 4).map((x) => {
      if (x === null || x === undefined) return x;
      if (typeof x === 'object') {
        // shaka's network errors carry the request URI and status; other objects are dropped.
        if (x.uri) return { uri: x.uri, status: x.status };
        if (x.message) return String(x.message);
        return Object.prototype.toString.call(x);
      }
      return String(x).slice(0, 300);
    });
  }

  function tracks() {
    const p = state.player;
    try {
      if (p === 'hlsjs' && instance) {
        const level = instance.levels[Math.max(instance.currentLevel, 0)];
        return {
          levels: instance.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate,
            videoCodec: l.videoCodec, audioCodec: l.audioCodec })),
          audioTracks: instance.audioTracks.map((t) => ({ name: t.name, lang: t.lang, groupId: t.groupId })),
          currentLevel: instance.currentLevel,
          latency: instance.latency,
          targetLatency: instance.targetLatency,
          live: !!(level && level.details && level.details.live),
        };
      }
      if ((p === 'dashjs' || p === 'dashjs-mss') && instance && instance.isReady()) {
        const info = {};
        for (const type of ['video', 'audio']) {
          info[type] = instance.getTracksFor(type).map((t) => ({
            codec: t.codec, lang: t.lang,
            bitrates: (t.bitrateList || []).map((b) => ({ bandwidth: b.bandwidth, width: b.width, height: b.height })),
          }));
        }
        info.live = instance.isDynamic();
        return info;
      }
      if (p === 'shaka' && instance) {
        return {
          variants: instance.getVariantTracks().map((t) => ({ width: t.width, height: t.height,
            bandwidth: t.bandwidth, videoCodec: t.videoCodec, audioCodec: t.audioCodec, active: t.active })),
          live: instance.isLive(),
        };
      }
    } catch (e) {
      return { error: String(e) };
    }
    return {};
  }

  window.reelayStart = async function (player, url) {
    state.player = player;
    state.url = url;
    try {
      if (player === 'hlsjs') startHlsjs(url);
      else if (player === 'dashjs') startDashjs(url, false);
      else if (player === 'dashjs-mss') startDashjs(url, true);
      else if (player === 'shaka') await startShaka(url);
      else throw new Error('unknown player ' + player);
    } catch (e) {
      error('harness', true, { message: String(e && e.stack || e) });
    }
  };

  window.reelaySnapshot = function () {
    const buffered = [];
    for (let i = 0; i < video.buffered.length; i++) {
      buffered.push([video.buffered.start(i), video.buffered.end(i)]);
    }
    return {
      ...state,
      currentTime: video.currentTime,
      paused: video.paused,
      readyState: video.readyState,
      duration: Number.isFinite(video.duration) ? video.duration : String(video.duration),
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      buffered,
      videoError: video.error ? { code: video.error.code, message: video.error.message } : null,
      tracks: tracks(),
    };
  };
})();
