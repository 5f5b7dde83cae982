/*
 * assets.c - the embedded style sheet (see assets.h).
 *
 * Each job state gets a colour and, in render.c, a symbol, so the matrix
 * still reads in greyscale or for a colour-blind viewer. Running jobs pulse
 * unless the viewer asked for reduced motion.
 */
#include "assets.h"

const char assets_css[] =
	"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"margin:1rem 1.5rem;color:#1f2328;background:#fff}\n"
	"h1{font-size:1.5rem;margin:0 0 .25rem}\n"
	".status{color:#656d76;margin:0 0 1rem}\n"
	".empty-page{font-size:1.1rem}\n"
	"code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}\n"
	"table.matrix{border-collapse:collapse}\n"
	".matrix th,.matrix td{border:1px solid #d0d7de;padding:.25rem .5rem;"
	"text-align:left;vertical-align:top}\n"
	".matrix thead th{background:#f6f8fa;position:sticky;top:0;"
	"font-family:ui-monospace,SFMono-Regular,Menlo,monospace}\n"
	".build{font-weight:normal;max-width:40rem}\n"
	".build a{font-weight:600}\n"
	".build time{color:#656d76;font-size:.85em;margin-left:.5rem}\n"
	".build code{display:block;white-space:pre-wrap;word-break:break-all}\n"
	".other{color:#656d76;font-size:.85em}\n"
	".job{display:block;white-space:nowrap;text-decoration:none}\n"
	".job:hover .state{text-decoration:underline}\n"
	".sym{display:inline-block;width:1.3em;font-weight:700}\n"
	".st-passed{color:#1a7f37}\n"
	".st-failed{color:#cf222e}\n"
	".st-error{color:#8250df}\n"
	".st-running{color:#0969da}\n"
	".st-dispatched{color:#0969da}\n"
	".st-queued,.st-cancelled,.st-unknown{color:#656d76}\n"
	"@keyframes pulse{50%{opacity:.3}}\n"
	".st-running .sym{animation:pulse 1.2s ease-in-out infinite}\n"
	"@media (prefers-reduced-motion:reduce){"
	".st-running .sym{animation:none}}\n";
