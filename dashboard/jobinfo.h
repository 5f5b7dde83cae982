/*
 * jobinfo.h - a job's attempts and artifacts, as tables (build and job
 * pages) and as JSON (builds/ID.json).
 */
#ifndef RFARM_DASHBOARD_JOBINFO_H
#define RFARM_DASHBOARD_JOBINFO_H

#include "dashboard.h"

/* <table class="attempts">, or nothing when the job has no attempts. */
void jobinfo_attempts(struct buf *out, const struct dash_job *j);
/* <table class="artifacts"> with download links into the API, or nothing. */
void jobinfo_artifacts(struct buf *out, const struct dash_job *j);
/* ,"attempts":[...],"artifacts":[...] (leading comma included). */
void jobinfo_json(struct buf *out, const struct dash_job *j);

#endif
