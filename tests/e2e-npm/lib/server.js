'use strict';
// One `openkms server` process for a test file: TLS on 127.0.0.1:0 in a temporary data dir,
// the suite's root AccessKey from the environment. Every wait is bounded.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const ACCESS_KEY_ID = 'LTAI5tOpenkmsE2eRoot0001';
const ACCESS_KEY_SECRET = 'E2eSecretE2eSecretE2eSecret012';
const ACCOUNT_ID = '1234567890123456';
const REGION_ID = 'cn-hangzhou';

const READY_TIMEOUT_MS = 60_000; // debug build; the first start generates a CA and a root key
const STOP_TIMEOUT_MS = 20_000;
const READY_RE = /^openkms: ready on (https?):\/\/127\.0\.0\.1:(\d+)$/;
// printed right after the ready line when the console is on (the default)
const CONSOLE_RE = /^openkms: console on (https?:\/\/127\.0\.0\.1:\d+\/console\/)$/;

/** The binary under test: $OPENKMS_BIN, else target/debug/openkms of this checkout. */
function openkmsBinary() {
  return process.env.OPENKMS_BIN || path.resolve(__dirname, '..', '..', '..', 'target', 'debug', 'openkms');
}

/** This process's environment without any OPENKMS_* / ALIBABA_CLOUD_* setting of the caller. */
function hermeticEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('OPENKMS_') && !k.startsWith('ALIBABA_CLOUD_') && k !== 'NODE_EXTRA_CA_CERTS') {
      env[k] = v;
    }
  }
  return { ...env, ...extra };
}

function tail(file, limit = 4000) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-limit);
  } catch {
    return '<no log>';
  }
}

/**
 * Start a server; resolves to { url, port, host, dataDir, caPath, logPath, stop(), running() }.
 * The temporary directory is removed by stop().
 */
async function startServer({ args = [] } = {}) {
  const bin = openkmsBinary();
  if (!fs.existsSync(bin)) {
    throw new Error(`openkms binary not found at ${bin}; build it (cargo build -p openkms) or set OPENKMS_BIN`);
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'openkms-e2e-npm-'));
  const dataDir = path.join(base, 'data');
  const logPath = path.join(base, 'server.log');
  const log = fs.openSync(logPath, 'a');
  const env = hermeticEnv({
    RUST_BACKTRACE: '1',
    OPENKMS_ROOT_ACCESS_KEY_ID: ACCESS_KEY_ID,
    OPENKMS_ROOT_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
  });
  const child = spawn(bin, ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0',
    '--account-id', ACCOUNT_ID, ...args], { env, stdio: ['ignore', 'pipe', log] });
  fs.closeSync(log);

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  // never leave a server behind, even if the test process dies early
  const reaper = () => { if (exited === null) child.kill('SIGKILL'); };
  process.on('exit', reaper);

  const lines = readline.createInterface({ input: child.stdout });
  // every line after the first, kept: the console's line can arrive in the ready line's chunk
  const later = [];
  let laterWaiter = null;
  let first = true;
  lines.on('line', (line) => {
    if (first) { first = false; return; }
    later.push(line);
    if (laterWaiter) laterWaiter();
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within ${READY_TIMEOUT_MS} ms; stderr:\n${tail(logPath)}`));
    }, READY_TIMEOUT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = READY_RE.exec(line);
      if (m) {
        resolve({ scheme: m[1], port: Number(m[2]) });
      } else {
        child.kill('SIGKILL');
        reject(new Error(`first stdout line is not the ready line: ${JSON.stringify(line)}`));
      }
    });
    exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`openkms exited (${code ?? signal}) before its ready line; stderr:\n${tail(logPath)}`));
    });
  });
  // The console's address: the line after the ready line (none with --console off).
  const consoleUrl = args.includes('off') ? null : await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 10_000);
    const look = () => {
      if (later.length === 0) return;
      clearTimeout(timer);
      const m = CONSOLE_RE.exec(later[0]);
      resolve(m ? m[1] : null);
    };
    laterWaiter = look;
    look();
  });

  const running = () => exited === null;
  async function stop() {
    if (running()) {
      child.kill('SIGTERM');
      let timer;
      const timeout = new Promise((resolve) => { timer = setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout'); });
      const outcome = await Promise.race([exitPromise, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exitPromise;
        throw new Error(`openkms ignored SIGTERM for ${STOP_TIMEOUT_MS} ms; stderr:\n${tail(logPath)}`);
      }
    }
    process.removeListener('exit', reaper);
    fs.rmSync(base, { recursive: true, force: true });
    return exited;
  }

  return {
    scheme: ready.scheme,
    port: ready.port,
    host: `127.0.0.1:${ready.port}`,
    url: `${ready.scheme}://127.0.0.1:${ready.port}`,
    consoleUrl,
    dataDir,
    caPath: path.join(dataDir, 'tls', 'ca.pem'),
    logPath,
    running,
    logTail: () => tail(logPath),
    stop,
  };
}

module.exports = {
  ACCESS_KEY_ID,
  ACCESS_KEY_SECRET,
  ACCOUNT_ID,
  REGION_ID,
  hermeticEnv,
  openkmsBinary,
  startServer,
};
