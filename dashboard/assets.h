/*
 * assets.h - the dashboard's style sheet and script, compiled into the
 * binary and written as style.css and live.js by dashboard_write_assets().
 */
#ifndef RFARM_DASHBOARD_ASSETS_H
#define RFARM_DASHBOARD_ASSETS_H

extern const char assets_css[]; /* style.css, NUL-terminated */
extern const char assets_js[];  /* live.js, NUL-terminated */

#endif
