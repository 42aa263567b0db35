"""Admin page body: retrain with progress, training runs, versions with promote / rollback
/ disable / enable, A/B tests, audit log.

Every action re-checks :func:`ui.auth.is_admin` right before it runs (a session whose admin
login expired or was revoked cannot act from a stale page), and records the admin's name
as ``who`` in the store's audit log. :mod:`core.training` and :mod:`core.store` know nothing
about authentication.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core import store, training
from core.display import literal
from core.errors import QuantdeskError, TrainingInProgressError
from core.panel import abtest
from core.store import ABTest, audit_log, session_scope, store_error_message
from core.store.ops import break_lock, current_lock
from core.training import TRAINING_LOCK, training_runs
from ui.auth import is_admin

ALL = "all families"


def current_admin() -> str | None:
    """The logged-in admin's name, or None (re-checked before every action)."""
    if not is_admin():
        return None
    return str(st.session_state.get("admin_user") or "") or None


def _guard() -> str | None:
    who = current_admin()
    if who is None:
        st.error("Admin login required: this action was refused. Log in again as an admin.")
    return who


def _flash(kind: str, text: str) -> None:
    """Show ``text`` (markdown: escape user text in it with ``literal``) after the rerun."""
    st.session_state["admin_flash"] = (kind, text)


def _show_flash() -> None:
    msg = st.session_state.pop("admin_flash", None)
    if msg:
        getattr(st, msg[0])(msg[1])


def _store_error(err: SQLAlchemyError, session=None) -> None:
    """Show a store fault (read-only, locked, missing database) as a message, not a
    traceback, after rolling back ``session`` when given."""
    if session is not None:
        try:
            session.rollback()
        except SQLAlchemyError:
            pass
    st.error(literal(store_error_message(err)))


def _ts(x) -> str:
    return "" if x is None else f"{x:%Y-%m-%d %H:%M:%S} UTC"


def _metrics_text(m: dict, limit: int = 160) -> str:
    if not m:
        return ""
    flat = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()
            if not isinstance(v, (dict, list))}
    text = json.dumps(flat or m, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- retrain

#: Seconds between two looks of the page at a running retrain job.
WATCH_EVERY = 0.25


def _show_runs(runs, error: str | None) -> bool:
    """Success/error lines for a job's finished runs; True when any failed."""
    failed = bool(error)
    for r in runs:
        if r.status == "COMPLETED":
            st.success(f"{literal(r.family)}: new candidate version {literal(r.version)}. "
                       "Promote it below to serve it.")
        else:
            failed = True
            st.error(literal(f"{r.family}: training failed: {r.error}"))
    if error:
        st.error(literal(f"Retrain stopped: {error}"))
    return failed


def watch_job(job: training.RetrainJob, label: str) -> None:
    """Follow ``job`` (running in a thread of this server) with a progress bar until it
    ends, then show its runs. The job does not depend on this script: when the tab closes,
    Streamlit stops the script at the next progress update and the job carries on."""
    with st.status(f"Retraining {literal(label)}…", expanded=True) as status:
        bar = st.progress(job.progress, text="starting")
        while not job.wait(WATCH_EVERY):
            bar.progress(job.progress, text=f"{job.progress:.0%} · {literal(job.message)}")
        bar.progress(1.0, text="done")
        failed = _show_runs(job.runs, job.error)
        status.update(label=("Retrain finished with errors" if failed else
                             f"Retrain of {literal(label)} complete"),
                      state="error" if failed else "complete", expanded=True)
    st.session_state.pop("adm_job", None)


def _earlier_job() -> None:
    """A retrain this session started and stopped watching (the page reran or the tab was
    reopened): its result, or its progress while it still runs."""
    job_id = st.session_state.get("adm_job")
    job = training.get_job(job_id) if job_id else None
    if job is None:
        return
    if job.done:
        st.session_state.pop("adm_job", None)
        _show_runs(job.runs, job.error)
    else:
        st.progress(job.progress, text=literal(
            f"Retrain of {', '.join(job.families)} running in the background: "
            f"{job.progress:.0%} · {job.message}"))


def retrain_section() -> None:
    """Retrain one family or all in a background job of this server, followed by a progress
    bar inside ``st.status``; the job outlives the tab (see :func:`watch_job`)."""
    st.subheader("Retrain")
    fams = sorted(training.FAMILIES)
    if not fams:
        st.info("No model family is registered in core.training.FAMILIES yet.")
        return
    _earlier_job()
    c1, c2 = st.columns([3, 1])
    choice = c1.selectbox("Model family", fams + [ALL], key="adm_family")
    c2.write("")
    if not c2.button("Retrain", type="primary", key="adm_retrain"):
        return
    who = _guard()
    if who is None:
        return
    try:
        job = training.start_training(training.ALL_FAMILIES if choice == ALL else choice,
                                      who=who)
    except TrainingInProgressError as err:
        st.warning(literal(err))
        return
    except QuantdeskError as err:
        st.error(literal(f"Retrain refused: {err}"))
        return
    except SQLAlchemyError as err:
        st.error("Retrain refused: the model store is unavailable.")
        _store_error(err)
        return
    st.session_state["adm_job"] = job.id
    watch_job(job, choice)


# ---------------------------------------------------------------- tables

def lock_section(session) -> None:
    """The training lock's holder, and a button that clears a stuck one (audited)."""
    held = current_lock(TRAINING_LOCK, session=session)
    if held is None:
        return
    by = held.holder.rsplit("#", 1)[0]
    c1, c2 = st.columns([3, 1])
    c1.info(literal(f"A retrain of {held.detail} by {by} on {held.host or '?'} "
                    f"(pid {held.pid or '?'}) holds the training lock since "
                    f"{_ts(held.acquired_at)}; last heartbeat {_ts(held.heartbeat_at)}. "
                    "A holder that died frees it within a minute."))
    if c2.button("Clear stuck lock", key="adm_unlock",
                 help="Only when the holding process is gone: its run is marked FAILED."):
        who = _guard()
        if who is None:
            return
        try:
            row = break_lock(TRAINING_LOCK, who=who, session=session)
        except SQLAlchemyError as err:
            _store_error(err, session)
            return
        _flash("success", "Training lock cleared." if row else "The lock was already free.")
        st.rerun()


def runs_section(session) -> None:

    st.subheader("Training runs")
    lock_section(session)
    runs = training_runs(session=session, limit=50)
    if not runs:
        st.caption("No training run yet.")
        return
    st.dataframe(pd.DataFrame([{
        "Run": r.id, "Family": r.family, "Status": r.status, "Version": r.version or "",
        "By": r.who, "Started": _ts(r.started_at), "Finished": _ts(r.finished_at),
        "Error": r.error or ""} for r in runs]), hide_index=True, width="stretch")


def versions_section(session) -> None:
    """Versions per family with metrics, and promote / rollback / disable / enable."""
    st.subheader("Model versions")
    c1, c2 = st.columns([3, 1])
    if c2.button("Sync from models/", key="adm_sync",
                 help="Register versions found on disk (new ones as candidates)."):
        who = _guard()
        if who is not None:
            try:
                out = store.sync_models_dir(session=session, who=who)
                session.commit()
            except SQLAlchemyError as err:
                _store_error(err, session)
                return
            _flash("success", f"Registered {len(out['registered'])} version(s); activated "
                              f"{literal(', '.join(out['activated']) or 'none')}.")
            st.rerun()
    rows = store.list_model_versions(session=session)
    if not rows:
        c1.info("No model version registered yet. Retrain a family, or sync from models/.")
        return
    st.dataframe(pd.DataFrame([{
        "Family": r.family, "Version": r.version, "Status": r.status, "Kind": r.kind or "",
        "Created": _ts(r.created_at), "Deployed": _ts(r.deployed_at),
        "Metrics": _metrics_text(r.metrics)} for r in rows]), hide_index=True, width="stretch")
    families = sorted({r.family for r in rows})
    c1, c2 = st.columns(2)
    fam = c1.selectbox("Family", families, key="adm_ops_family")
    versions = [r for r in rows if r.family == fam]
    active = store.active_version(fam, session=session)
    disabled = store.is_disabled(fam, session=session)
    ver = c2.selectbox("Version", [r.version for r in versions], key="adm_ops_version")
    state = "disabled" if disabled else (f"active {active}" if active else "no active version")
    chosen = next(r.status for r in versions if r.version == ver)
    st.caption(literal(f"{fam}: {state} · chosen version {ver} is {chosen}"))
    b1, b2, b3, b4 = st.columns(4)
    ops = {
        "promote": b1.button("Promote", key="adm_promote", disabled=ver == active,
                             help="Make the chosen version serve; the current one returns "
                                  "to candidate."),
        "rollback": b2.button("Roll back", key="adm_rollback", disabled=active is None,
                              help="Return to the previously deployed version."),
        "disable": b3.button("Disable", key="adm_disable", disabled=active is None,
                             help="Switch the family off: predictions fall back to the naive "
                                  "baseline with a banner."),
        "enable": b4.button("Enable", key="adm_enable", disabled=not disabled),
    }
    action = next((k for k, v in ops.items() if v), None)
    if action is None:
        return
    who = _guard()
    if who is None:
        return
    try:
        if action == "promote":
            row = store.promote(fam, ver, who=who, session=session)
        elif action == "rollback":
            row = store.rollback(fam, who=who, session=session)
        elif action == "disable":
            row = store.disable(fam, who=who, session=session)
        else:
            row = store.enable(fam, who=who, session=session)
        session.commit()
    except QuantdeskError as err:
        session.rollback()
        st.error(literal(err))
        return
    except SQLAlchemyError as err:
        _store_error(err, session)
        return
    _flash("success", f"{action}: {literal(fam)}/{literal(row.version)} is now "
                      f"{literal(row.status)}.")
    st.rerun()


def ab_section(session) -> None:
    """Start / compare / stop a champion-challenger test of one family."""
    from sqlmodel import select


    st.subheader("A/B tests (champion / challenger)")
    rows = store.list_model_versions(session=session)
    families = sorted({r.family for r in rows})
    running = session.exec(select(ABTest).where(ABTest.status == "running")).all()
    for t in running:
        with st.container(border=True):
            st.markdown(f"**{literal(t.name)}** · " + literal(
                f"{t.family}: champion {t.champion_version} vs challenger "
                f"{t.challenger_version} · share {t.share:.0%} · since {_ts(t.started_at)}"))
            cmp_res = None
            try:
                cmp_res = abtest.compare(session=session, family=t.family,
                                         champion_version=t.champion_version,
                                         challenger_version=t.challenger_version)
                st.markdown(literal(cmp_res.verdict))
                st.dataframe(pd.DataFrame([{
                    "Pairs": cmp_res.n_pairs, "Champion MSE": cmp_res.champion_mse,
                    "Challenger MSE": cmp_res.challenger_mse,
                    "DM stat": cmp_res.dm.statistic if cmp_res.dm else None,
                    "DM p": cmp_res.dm.p_value if cmp_res.dm else None,
                    "Champion hit [%]": None if cmp_res.champion_hit_rate is None else
                    100 * cmp_res.champion_hit_rate,
                    "Challenger hit [%]": None if cmp_res.challenger_hit_rate is None else
                    100 * cmp_res.challenger_hit_rate}]), hide_index=True)
            except QuantdeskError as err:
                st.info(literal(f"No comparison yet: {err}"))
            if st.button("Stop test", key=f"adm_ab_stop_{t.id}"):
                who = _guard()
                if who is not None:
                    try:
                        abtest.stop_ab_test(t.name, who=who, session=session,
                                            result=cmp_res.to_dict() if cmp_res else None)
                        session.commit()
                    except QuantdeskError as err:
                        st.error(literal(err))
                        return
                    except SQLAlchemyError as err:
                        _store_error(err, session)
                        return
                    _flash("success", f"A/B test {literal(t.name)} stopped.")
                    st.rerun()
    if not families:
        st.caption("Register at least two versions of a family to run an A/B test.")
        return
    with st.form("adm_ab_form"):
        c1, c2, c3 = st.columns(3)
        fam = c1.selectbox("Family", families, key="adm_ab_family")
        vers = [r.version for r in rows if r.family == fam]
        champ = store.active_version(fam, session=session)
        chall = c2.selectbox("Challenger", [v for v in vers if v != champ] or ["—"],
                             key="adm_ab_chall")
        share = c3.slider("Challenger share [%]", 5, 50, 10, step=5, key="adm_ab_share")
        name = st.text_input("Test name", value=f"{fam}-ab", key="adm_ab_name")
        go = st.form_submit_button("Start A/B test")
    if go:
        who = _guard()
        if who is None:
            return
        if champ is None or chall == "—":
            st.error(f"{literal(fam)} needs an active champion and another version as "
                     "challenger.")
            return
        try:
            abtest.start_ab_test(name.strip() or f"{fam}-ab", fam, champ, chall,
                                 share=share / 100, who=who, session=session)
            session.commit()
        except (QuantdeskError, ValueError) as err:
            session.rollback()
            st.error(literal(err))
            return
        except SQLAlchemyError as err:
            _store_error(err, session)
            return
        _flash("success", f"A/B test started: {literal(champ)} vs {literal(chall)} "
                          f"({share}% challenger).")
        st.rerun()


def audit_section(session) -> None:

    st.subheader("Audit log")
    rows = audit_log(session=session, limit=200)
    if not rows:
        st.caption("Nothing audited yet.")
        return
    st.dataframe(pd.DataFrame([{
        "When": _ts(r.ts), "Who": r.who, "Action": r.action, "Target": r.target,
        "Detail": json.dumps(r.detail, default=str)[:200]} for r in rows]),
        hide_index=True, width="stretch")


def admin_body() -> None:
    """The Admin page below the login gate. Shows nothing to a non-admin."""
    who = current_admin()
    if who is None:
        st.error("This page is for admins. Log in as an admin first.")
        return

    st.caption(f"Signed in as **{literal(who)}**. Every action is re-checked and audited.")
    _show_flash()
    retrain_section()
    try:
        with session_scope() as s:
            versions_section(s)
            runs_section(s)
            ab_section(s)
            audit_section(s)
    except QuantdeskError as err:
        st.error(literal(f"The model store could not be read: {err}"))
    except SQLAlchemyError as err:
        st.error(literal(store_error_message(err)))
