// @ts-check
/** Jest transform (see jest.project.js): `import('http')` / `import('https')` → a require in a promise. */
module.exports = {
  /** @param {string} source */
  process(source) {
    return { code: source.replace(/\bimport\((['"])(https?)\1\)/g, 'Promise.resolve().then(() => require($1$2$1))') };
  },
};
