// Render Marp decks with the real renderer (@marp-team/marp-core, pinned in package.json) and
// print one JSON object: {"<path>": {"slides": ["<html of slide 1>", ...]}} for each path
// given on the command line. tests/courseware/test_deck_parser_marp.py compares the result
// with courseware.decks, so the portal shows students exactly the slides Marp shows.
//
// Options match how the portal reads a deck: raw HTML is HTML (`html: true`, as instructors
// present with it on), and the two presentation features the portal does not reproduce,
// twemoji images and math typesetting, are off so that they do not change the text.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let Marp;
try {
  ({ Marp } = require("@marp-team/marp-core"));
} catch {
  process.stderr.write(
    "@marp-team/marp-core is not installed: run `npm ci` (or `make assets`) in the " +
      "repository root.\n",
  );
  process.exit(3);
}

const result = {};
for (const path of process.argv.slice(2)) {
  const marp = new Marp({
    html: true,
    inlineSVG: false,
    math: false,
    emoji: { shortcode: false, unicode: false },
  });
  const { html } = marp.render(readFileSync(path, "utf8"), { htmlAsArray: true });
  result[path] = { slides: html };
}
process.stdout.write(JSON.stringify(result));
