/*
 * assets.h - the dashboard's style sheet, compiled into the binary.
 *
 * The pages embed it in a <style> element, so the output directory holds
 * self-contained files and nothing is fetched at view time (no CDN).
 */
#ifndef RFARM_DASHBOARD_ASSETS_H
#define RFARM_DASHBOARD_ASSETS_H

extern const char assets_css[]; /* the whole style sheet, NUL-terminated */

#endif
