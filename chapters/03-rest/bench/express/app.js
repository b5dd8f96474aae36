// app.js -- the chapter's two benchmarked endpoints, POST /items and
// GET /items/{id} (and GET /health), written the way an Express 5 app
// usually is: express.json(), route handlers, an error-handling middleware,
// and a Map for the store. bench.sh runs it beside restd; it is the
// yardstick, not a model answer.
//
//   node app.js [--host ADDR] [--port N]
//
// Like restd it prints "listening on HOST:PORT" once it accepts clients,
// and stops on SIGTERM or SIGINT.
//
// What it checks is what the C API checks for these endpoints: JSON bodies
// only (415), at most 1 MiB (413), valid JSON (400), and each member of the
// item (422, every error with its JSON Pointer). What it leaves out, and
// why it does not matter for the benchmark's valid requests: JSON.parse()
// keeps the last of two members of one name where the C API refuses both,
// and nothing caps the nesting depth or the count of values.
'use strict';

const http = require('node:http');
const express = require('express');

const NAME_MAX = 200;
const TAG_MAX = 50;
const TAGS_MAX = 100;
const QTY_MAX = 2147483647;
const PRICE_MAX = 1e9;

// ---- problem details (RFC 9457) --------------------------------------------

function problem(res, status, detail, errors) {
  const body = { type: 'about:blank', title: http.STATUS_CODES[status], status };
  if (detail) body.detail = detail;
  if (errors) body.errors = errors;
  return res.status(status).type('application/problem+json').json(body);
}

// ---- validation: the rules of item.c --------------------------------------

// A string of 1 to max code points (not UTF-16 units: [...s] splits by code
// point, as the C API counts) and no U+0000, which the C API refuses too.
function goodString(v, max) {
  if (typeof v !== 'string' || v.includes('\0')) return false;
  const n = [...v].length;
  return n >= 1 && n <= max;
}

const readers = {
  name(v, item, errors) {
    if (!goodString(v, NAME_MAX)) errors.push(err('/name', 'must be a string of 1 to 200 characters'));
    else item.name = v;
  },
  qty(v, item, errors) {
    if (!Number.isInteger(v) || v < 0 || v > QTY_MAX)
      errors.push(err('/qty', 'must be an integer from 0 to 2147483647'));
    else item.qty = v;
  },
  price(v, item, errors) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > PRICE_MAX)
      errors.push(err('/price', 'must be a number from 0 to 1000000000'));
    else item.price = v === 0 ? 0 : v; // -0 is stored as 0
  },
  tags(v, item, errors) {
    if (!Array.isArray(v) || v.length > TAGS_MAX) {
      errors.push(err('/tags', 'must be an array of at most 100 strings'));
      return;
    }
    let bad = false;
    v.forEach((t, i) => {
      if (!goodString(t, TAG_MAX)) {
        errors.push(err(`/tags/${i}`, 'must be a string of 1 to 50 characters'));
        bad = true;
      }
    });
    if (!bad) item.tags = v.slice();
  },
};

function err(pointer, detail) {
  return { pointer, detail };
}

// RFC 6901: "~" as "~0", "/" as "~1".
function pointerTo(member) {
  return '/' + member.replace(/~/g, '~0').replace(/\//g, '~1');
}

// The item a client sent, with the defaults for what it left out, or
// { errors } listing everything wrong with it.
function itemFromJson(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { errors: [err('', 'must be a JSON object')] };
  const item = { name: '', qty: 0, price: 0, tags: [] };
  const errors = [];
  for (const [member, value] of Object.entries(body)) {
    // hasOwn, not readers[member]: "__proto__" or "constructor" must not
    // find Object.prototype's members (mass assignment, in JavaScript).
    if (Object.hasOwn(readers, member)) readers[member](value, item, errors);
    else errors.push(err(pointerTo(member), 'is not a member a client may send'));
  }
  if (!Object.hasOwn(body, 'name')) errors.push(err('/name', 'is required'));
  return errors.length ? { errors } : { item };
}

// ---- the app -----------------------------------------------------------------

const items = new Map();
let lastId = 0;

const app = express();
app.disable('x-powered-by'); // Express's own security advice

// Every answer is JSON: 406 for a client that takes none.
app.use((req, res, next) => {
  if (!req.accepts('json')) return problem(res, 406, 'the API answers in JSON only: accept application/json');
  next();
});

// The C server's --max-body default: 1 MiB.
app.use(express.json({ limit: '1mb' }));

app.get('/health', (req, res) => {
  res.json({ status: 'ok' });
});

app.post('/items', (req, res) => {
  // express.json() leaves other media types unparsed.
  if (!req.is('application/json')) return problem(res, 415, 'the body must be Content-Type: application/json');
  const { item, errors } = itemFromJson(req.body);
  if (errors) return problem(res, 422, 'the item is not valid', errors);
  const now = new Date().toISOString(); // "2026-12-02T10:00:00.123Z", as restd
  const stored = { id: ++lastId, ...item, version: 1, created_at: now, updated_at: now };
  items.set(stored.id, stored);
  res.status(201).location(`/items/${stored.id}`).json(stored);
});

// 1 to 15 digits and no leading zero, as the C API's parse_id().
app.get('/items/:id', (req, res) => {
  const { id } = req.params;
  const item = /^[1-9][0-9]{0,14}$/.test(id) ? items.get(Number(id)) : undefined;
  if (!item) return problem(res, 404, `no item has the id ${id}`);
  res.json(item);
});

app.use((req, res) => {
  problem(res, 404, `the API has no resource at ${req.path}`);
});

// Errors from express.json() carry their status: 400 for bad JSON, 413 for
// a body over the limit, 415 for a charset it cannot read. Express knows
// an error handler by its four parameters, so next stays, unused.
app.use((error, req, res, next) => {
  const status = error.status >= 400 && error.status < 500 ? error.status : 500;
  if (status === 500) console.error(error);
  problem(res, status, status === 400 ? 'the body is not valid JSON' : error.expose ? error.message : undefined);
});

// ---- command line and lifecycle --------------------------------------------

function usage() {
  console.error('usage: node app.js [--host ADDR] [--port N]');
  process.exit(2);
}

let host = '127.0.0.1';
let port = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const value = args[i + 1];
  if (value === undefined) usage();
  if (args[i] === '--host') host = value;
  else if (args[i] === '--port' && /^[0-9]+$/.test(value) && Number(value) < 65536) port = Number(value);
  else usage();
}

const server = app.listen(port, host, (error) => {
  if (error) {
    console.error(`app.js: cannot listen on ${host} port ${port}: ${error.message}`);
    process.exit(1);
  }
  const a = server.address();
  console.log(`listening on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
