/** Bundles src/viewer into dist/viewer (app.js, viewer.css, index.html). */
export function buildViewer(): Promise<void>;
