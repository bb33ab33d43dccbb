'use strict';
// A test file's server and npm SDK client: started in its `before`, stopped in its `after`,
// which fails the file when the server died during the run (with the end of its stderr).

const assert = require('node:assert/strict');

const { startServer } = require('./server');
const { startSdk } = require('./sdk');

/** Starts a server (`options` as startServer takes them) and an SDK client of it: { server, kms }. */
async function startServerAndSdk(options) {
  const server = await startServer(options);
  return { server, kms: startSdk(server) };
}

/** Closes the SDK client and stops the server (either may be absent); asserts the server ran to the end. */
async function stopServerAndSdk({ server, kms }) {
  if (kms) await kms.close();
  if (server) {
    const died = !server.running();
    const log = server.logTail();
    await server.stop();
    assert.ok(!died, `openkms died during the run; stderr:\n${log}`);
  }
}

module.exports = { startServerAndSdk, stopServerAndSdk };
