// The page: a file or the microphone in, the emotion timeline and a spectrogram strip out.
// Everything after decoding runs in ser's WebAssembly module (web/pkg, built by
// scripts/build-web.sh): resampling, the speech gate, log-mel features, the model.
//
// URL parameters (for scripts/test-web.sh; a person needs none):
//   seconds=N  stop recording by itself after N s of audio;
//   capture=1  keep the samples the recognizer was given (window.ser.captured()).
import init, { Engine, Spectrogram } from "./pkg/ser_wasm.js";

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

// What the page did, for a test driver (times in ms from navigation start).
const ser = {
  ready: false, readyMs: null, firstResultMs: null, error: null,
  source: null, sampleRate: null, done: false, segments: [], overall: null,
  heardSamples: 0, chunks: [], micStartMs: null,
};
window.ser = ser;

let engine, emotions;
let live = null, strip = null, recording = null;

function fail(e) {
  ser.error = String(e && e.message ? e.message : e);
  $("status").textContent = "error: " + ser.error;
  console.error(e);
}

// ---- the spectrogram strip: one canvas column per 32 ms, scrolled to the newest ----
let stripColumns = [];
const MAX_COLUMNS = 1200;

function drawStrip() {
  const c = $("spectrogram");
  const n = Math.min(stripColumns.length, MAX_COLUMNS);
  if (n === 0) return;
  const cols = stripColumns.slice(-n);
  const bands = cols[0].length;
  c.width = n;
  c.height = bands;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(n, bands);
  let top = -Infinity;
  for (const col of cols) for (const v of col) if (v > top) top = v;
  for (let x = 0; x < n; x++) {
    const col = cols[x];
    for (let b = 0; b < bands; b++) {
      // 80 dB below the loudest column shown, low bands at the bottom.
      const t = Math.max(0, Math.min(1, (col[b] - (top - 80)) / 80));
      const i = 4 * ((bands - 1 - b) * n + x);
      img.data[i] = 255 * Math.min(1, 1.5 * t);
      img.data[i + 1] = 255 * Math.max(0, 1.5 * t - 0.5);
      img.data[i + 2] = 255 * Math.max(0, 0.6 - Math.abs(t - 0.3) * 2);
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

function addColumns(flat) {
  if (!strip || flat.length === 0) return;
  const bands = strip.nMels();
  for (let i = 0; i + bands <= flat.length; i += bands) stripColumns.push(flat.slice(i, i + bands));
  if (stripColumns.length > MAX_COLUMNS) stripColumns = stripColumns.slice(-MAX_COLUMNS);
  drawStrip();
}

// ---- the timeline ----
function reset() {
  $("timeline").querySelector("tbody").replaceChildren();
  $("overall").textContent = "";
  $("label").innerHTML = "&nbsp;";
  stripColumns = [];
  ser.done = false; ser.segments = []; ser.overall = null; ser.heardSamples = 0;
  ser.chunks = []; ser.firstResultMs = null; ser.micStartMs = null;
}

function addSegment(s) {
  if (ser.firstResultMs === null) ser.firstResultMs = performance.now();
  ser.segments.push(s);
  const tr = document.createElement("tr");
  tr.dataset.start = String(s.start);
  tr.dataset.end = String(s.end);
  tr.dataset.emotion = s.emotion ?? "";
  tr.dataset.probabilities = s.probabilities ? JSON.stringify(s.probabilities) : "";
  const cell = (text, cls) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
    return td;
  };
  cell(s.start.toFixed(2));
  cell(s.end.toFixed(2));
  cell(s.emotion ?? "(no speech)", "emotion");
  for (const e of emotions) {
    const p = s.probabilities ? s.probabilities[e] : null;
    const td = cell(p === null ? "" : p.toFixed(3), e === s.emotion ? "best" : "");
    if (p !== null && e !== s.emotion) {
      td.style.background = `rgba(66, 133, 244, ${(0.6 * p).toFixed(3)})`;
    }
  }
  $("timeline").querySelector("tbody").append(tr);
  $("label").textContent = s.emotion
    ? `${s.emotion} ${(100 * s.probabilities[s.emotion]).toFixed(0)} %`
    : "(no speech)";
}

function showOverall(o) {
  ser.overall = o;
  $("overall").textContent = o
    ? `Overall: ${o.emotion} (${(100 * o.confidence).toFixed(0)} %)`
    : "Overall: no speech heard";
}

// ---- a file: decoded by the browser at its own rate, the whole buffer at once ----
function wavRate(bytes) {
  const v = new DataView(bytes);
  const tag = (o) => String.fromCharCode(v.getUint8(o), v.getUint8(o + 1), v.getUint8(o + 2), v.getUint8(o + 3));
  if (bytes.byteLength < 28 || tag(0) !== "RIFF" || tag(8) !== "WAVE") return null;
  for (let o = 12; o + 8 <= bytes.byteLength; o += 8 + v.getUint32(o + 4, true) + (v.getUint32(o + 4, true) & 1)) {
    if (tag(o) === "fmt ") return v.getUint32(o + 12, true);
  }
  return null;
}

function mono(buffer) {
  if (buffer.numberOfChannels === 1) return buffer.getChannelData(0);
  const y = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const x = buffer.getChannelData(c);
    for (let i = 0; i < y.length; i++) y[i] += x[i];
  }
  for (let i = 0; i < y.length; i++) y[i] /= buffer.numberOfChannels;
  return y;
}

async function runFile(file) {
  reset();
  ser.source = "file";
  $("status").textContent = `decoding ${file.name}…`;
  const bytes = await file.arrayBuffer();
  // A context at the file's own rate, so that a WAV is decoded without resampling (the
  // model's resampler does that, as in the native program); other formats at 48 kHz.
  const rate = wavRate(bytes) ?? 48000;
  const decoded = await new OfflineAudioContext(1, 1, rate).decodeAudioData(bytes);
  const y = mono(decoded);
  ser.sampleRate = decoded.sampleRate;
  ser.heardSamples = y.length;
  strip = new Spectrogram(decoded.sampleRate);
  addColumns(strip.push(y));
  $("status").textContent = `${file.name}: ${(y.length / decoded.sampleRate).toFixed(1)} s at ${decoded.sampleRate} Hz`;
  const t = JSON.parse(engine.timeline(y, decoded.sampleRate));
  for (const s of t.segments) addSegment(s);
  showOverall(t.emotion ? { emotion: t.emotion, confidence: t.confidence, probabilities: t.probabilities } : null);
  ser.done = true;
}

// ---- the microphone: an AudioWorklet hands blocks to the live stream ----
async function startMic() {
  reset();
  ser.source = "microphone";
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  const rate = media.getAudioTracks()[0].getSettings().sampleRate;
  const ctx = new AudioContext(rate ? { sampleRate: rate } : {});
  await ctx.audioWorklet.addModule("worklet.js");
  const source = ctx.createMediaStreamSource(media);
  const tap = new AudioWorkletNode(ctx, "tap", { channelCount: 1, channelCountMode: "explicit" });
  const mute = ctx.createGain();
  mute.gain.value = 0;
  source.connect(tap).connect(mute).connect(ctx.destination);
  ser.sampleRate = ctx.sampleRate;
  live = engine.live(ctx.sampleRate, 1);
  strip = new Spectrogram(ctx.sampleRate);
  const limit = params.has("seconds") ? Number(params.get("seconds")) * ctx.sampleRate : Infinity;
  const keep = params.get("capture") === "1";
  recording = { media, ctx, tap };
  tap.port.onmessage = (e) => {
    if (!live) return;
    if (ser.micStartMs === null) ser.micStartMs = performance.now();
    let x = e.data;
    if (ser.heardSamples + x.length > limit) x = x.subarray(0, limit - ser.heardSamples);
    ser.heardSamples += x.length;
    if (keep) ser.chunks.push(x);
    try {
      for (const s of JSON.parse(live.push(x))) addSegment(s);
      addColumns(strip.push(x));
    } catch (err) {
      fail(err);
    }
    $("status").textContent = `listening: ${(ser.heardSamples / ctx.sampleRate).toFixed(0)} s at ${ctx.sampleRate} Hz`;
    if (ser.heardSamples >= limit) stopMic();
  };
  $("mic").disabled = true;
  $("stop").disabled = false;
  $("status").textContent = `listening at ${ctx.sampleRate} Hz…`;
}

function stopMic() {
  if (!live) return;
  const l = live;
  live = null;
  try {
    for (const s of JSON.parse(l.finish())) addSegment(s);
    showOverall(JSON.parse(l.overall()));
  } catch (err) {
    fail(err);
  }
  l.free();
  if (recording) {
    recording.media.getTracks().forEach((t) => t.stop());
    recording.ctx.close();
    recording = null;
  }
  $("mic").disabled = false;
  $("stop").disabled = true;
  $("status").textContent = `stopped after ${(ser.heardSamples / ser.sampleRate).toFixed(1)} s`;
  ser.done = true;
}

// The samples the recognizer was given (with capture=1), as base64 of little-endian f32.
ser.captured = () => {
  const n = ser.chunks.reduce((a, c) => a + c.length, 0);
  const all = new Float32Array(n);
  let o = 0;
  for (const c of ser.chunks) { all.set(c, o); o += c.length; }
  const bytes = new Uint8Array(all.buffer);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

// Median ms of `engine.classify` on the first 3 s of a 16 kHz WAV (speed figures).
ser.bench = async (url, iters) => {
  const bytes = await (await fetch(url)).arrayBuffer();
  const decoded = await new OfflineAudioContext(1, 1, wavRate(bytes) ?? 16000).decodeAudioData(bytes);
  const y = decoded.getChannelData(0).slice(0, 3 * decoded.sampleRate);
  const times = [];
  for (let i = 0; i < iters + 5; i++) {
    const t0 = performance.now();
    engine.classify(y, decoded.sampleRate);
    if (i >= 5) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
};

try {
  await init();
  engine = new Engine();
  emotions = Engine.emotions();
  const head = $("timeline").querySelector("thead tr");
  for (const e of emotions) {
    const th = document.createElement("th");
    th.textContent = e;
    head.append(th);
  }
  $("file").disabled = false;
  $("mic").disabled = false;
  $("status").textContent = "ready: choose a file or record";
  ser.readyMs = performance.now();
  ser.ready = true;
} catch (e) {
  fail(e);
}

$("file").addEventListener("change", (e) => {
  const f = e.target.files[0];
  if (f) runFile(f).catch(fail);
});
$("mic").addEventListener("click", () => startMic().catch(fail));
$("stop").addEventListener("click", stopMic);
