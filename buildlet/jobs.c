/*
 * jobs.c - what the buildlet does with the coordinator's messages: start
 * and cancel runners, forget acknowledged results, drain.
 *
 * Runner callbacks arrive on runner threads and only encode and queue;
 * everything else here runs on the event-loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "log.h"
#include "xalloc.h"

static void on_started(void *ud, int64_t job, int32_t attempt)
{
	struct job_slot *slot = ud;
	struct proto_msg m = {.type = PROTO_STARTED};

	m.u.ref.job = job;
	m.u.ref.attempt = attempt;
	buildlet_enqueue(slot->b, &m);
}

static void on_log(void *ud, int64_t job, int32_t attempt, int64_t seq,
		   int stream, const unsigned char *data, size_t len)
{
	struct job_slot *slot = ud;
	struct buildlet *b = slot->b;
	struct proto_msg m = {.type = PROTO_LOG};

	/* Back-pressure: while the coordinator cannot take output as fast
	 * as the job makes it, the job waits on its pipe. */
	pthread_mutex_lock(&b->mu);
	while (b->outq_bytes > OUTQ_HIGH_WATER && !b->stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->space, &b->mu, &until);
	}
	pthread_mutex_unlock(&b->mu);
	m.u.log.job = job;
	m.u.log.attempt = attempt;
	m.u.log.seq = seq;
	m.u.log.stream = stream;
	m.u.log.data = (unsigned char *)data;
	m.u.log.len = len;
	/* On disk first, so a replay after a reconnect can never miss a
	 * chunk that was queued before it. */
	if (slot->spool)
		spool_append(slot->spool, seq, stream, data, len);
	buildlet_enqueue(b, &m);
}

static void on_done(void *ud, const struct proto_done *d)
{
	struct job_slot *slot = ud;
	struct proto_msg m = {.type = PROTO_DONE};

	m.u.done = *d;
	log_info("job %lld attempt %d: exit %d signal %d after %lld ms%s%s",
		 (long long)d->job, (int)d->attempt, (int)d->exit_code,
		 (int)d->signal, (long long)d->duration_ms,
		 d->error[0] ? ": " : "", d->error);
	/* Free the slot before the coordinator can hear of it, or its next
	 * run could find the slot still taken. */
	atomic_store(&slot->done, 1);
	buildlet_enqueue(slot->b, &m);
}

static const struct runner_events events = {on_started, on_log, on_done};

static struct job_slot *slot_find(struct buildlet *b, int64_t job, int32_t attempt)
{
	struct list *l;

	list_for_each(l, &b->slots) {
		struct job_slot *s = list_entry(l, struct job_slot, link);

		if (s->job == job && s->attempt == attempt)
			return s;
	}
	return NULL;
}

static size_t slots_busy(struct buildlet *b)
{
	struct list *l;
	size_t n = 0;

	list_for_each(l, &b->slots) {
		struct job_slot *s = list_entry(l, struct job_slot, link);

		n += !atomic_load(&s->done);
	}
	return n;
}

static int held_has(struct buildlet *b, int64_t job, int32_t attempt)
{
	struct list *lists[2] = {&b->held, &b->outq}, *l;
	int found = 0;

	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < 2 && !found; i++)
		list_for_each(l, lists[i]) {
			struct out_frame *f = list_entry(l, struct out_frame, link);

			if (f->is_done && f->job == job && f->attempt == attempt) {
				found = 1;
				break;
			}
		}
	pthread_mutex_unlock(&b->mu);
	return found;
}

/* Refuse a run without running it: the coordinator records an error. */
static void refuse(struct buildlet *b, const struct proto_run *run,
		   const char *why)
{
	struct proto_msg m = {.type = PROTO_DONE};

	m.u.done.job = run->job;
	m.u.done.attempt = run->attempt;
	m.u.done.exit_code = -1;
	m.u.done.error = (char *)why;
	log_warn("job %lld attempt %d refused: %s", (long long)run->job,
		 (int)run->attempt, why);
	buildlet_enqueue(b, &m);
}

static void on_run(struct buildlet *b, const struct proto_run *run)
{
	struct runner_options opt = {b->workdir, run->platform,
				     b->cfg.kill_grace_ms,
				     b->cfg.default_timeout_s, 0, b->http_base,
				     b->cfg.ca_file, b->cfg.pin,
				     b->has_run_as ? &b->run_as : NULL,
				     &b->limits};
	struct job_slot *slot;
	struct errbuf eb = {""};

	if (slot_find(b, run->job, run->attempt) ||
	    held_has(b, run->job, run->attempt))
		return; /* a resent run: it is running or done already */
	if (slots_busy(b) >= (size_t)b->cfg.capacity) {
		refuse(b, run, "buildlet has no free slot");
		return;
	}
	if (!run->platform[0])
		opt.platform = b->platforms[0];
	slot = xcalloc(1, sizeof *slot);
	slot->b = b;
	slot->job = run->job;
	slot->attempt = run->attempt;
	slot->spool = spool_open(b->spool_dir, run->job, run->attempt, &eb);
	if (slot->spool) {
		pthread_mutex_lock(&b->mu);
		list_add_tail(&b->spools, &slot->spool->link);
		pthread_mutex_unlock(&b->mu);
	} else {
		log_warn("job %lld: %s; its log cannot be resent after a "
			 "reconnect", (long long)run->job, eb.msg);
		errbuf_clear(&eb);
	}
	log_info("job %lld attempt %d: running", (long long)run->job,
		 (int)run->attempt);
	slot->r = runner_start(run, &opt, &events, slot, &eb);
	if (!slot->r) {
		free(slot);
		refuse(b, run, eb.msg[0] ? eb.msg : "cannot start a runner thread");
		return;
	}
	list_add_tail(&b->slots, &slot->link);
}

static void on_ack(struct buildlet *b, const struct proto_attempt_ref *r)
{
	struct list *lists[2] = {&b->held, &b->outq}, *l, *tmp;
	struct spool *sp;

	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < 2; i++)
		list_for_each_safe(l, tmp, lists[i]) {
			struct out_frame *f = list_entry(l, struct out_frame, link);

			if (!f->is_done || f->job != r->job || f->attempt != r->attempt)
				continue;
			list_del(&f->link);
			if (i == 1)
				b->outq_bytes -= f->b.len;
			buf_free(&f->b);
			free(f);
		}
	sp = buildlet_spool_find(b, r->job, r->attempt);
	if (sp)
		list_del(&sp->link);
	pthread_mutex_unlock(&b->mu);
	spool_free(&sp);
}

static void on_cancel(struct buildlet *b, const struct proto_attempt_ref *r)
{
	struct job_slot *slot = slot_find(b, r->job, r->attempt);

	if (slot) {
		log_info("job %lld attempt %d: cancelling", (long long)r->job,
			 (int)r->attempt);
		runner_cancel(slot->r);
	}
}

void buildlet_reap(struct buildlet *b)
{
	struct list *l, *tmp;

	list_for_each_safe(l, tmp, &b->slots) {
		struct job_slot *s = list_entry(l, struct job_slot, link);

		if (!runner_finished(s->r))
			continue;
		list_del(&s->link);
		runner_free(&s->r);
		free(s);
	}
}

void buildlet_on_message(struct buildlet *b, struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_RUN:
		on_run(b, &m->u.run);
		break;
	case PROTO_ACK:
		on_ack(b, &m->u.ref);
		break;
	case PROTO_CANCEL:
		on_cancel(b, &m->u.ref);
		break;
	case PROTO_DRAIN:
		/* The coordinator sends no new runs while it is drained. */
		log_info("drained by the coordinator: finishing running jobs");
		b->draining = 1;
		break;
	default:
		log_warn("ignoring unexpected %s from the coordinator",
			 proto_type_name(m->type));
	}
}
