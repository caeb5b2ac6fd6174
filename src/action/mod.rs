//! Plan and apply: one mechanism over the kinds of action. Today's kinds
//! are archive runs (`archive`) and escalation mails (`notify`). A kind
//! plans its part of `plan.json`; at apply, says whether that part still
//! holds, carries it out, and records a refusal its own way. The mechanism
//! is the same for every kind: one lock, every part checked before any is
//! carried out, a plan refused as a whole when one part no longer holds.

pub mod archive;
pub mod hook;
pub mod lock;
pub mod notify;
pub mod update;

use crate::archive::run::Layout;
use crate::config::Config;
use crate::plan::Plan;
use anyhow::Result;
use jiff::Zoned;
use std::path::{Path, PathBuf};

/// A kind of action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Archive,
    Notify,
    Update,
}

/// Every kind, in the order their parts are checked and carried out.
pub const KINDS: [Kind; 3] = [Kind::Archive, Kind::Notify, Kind::Update];

/// What the snapshots say, read once for every kind that plans from it.
type Analysis = std::cell::OnceCell<(crate::fleet::Fleet, crate::derive::Derived)>;

fn analysis<'a>(ctx: &Context, cell: &'a Analysis) -> Result<&'a (crate::fleet::Fleet, crate::derive::Derived)> {
    if cell.get().is_none() {
        let read = crate::pipeline::analyse(ctx.config, ctx.snapshots, ctx.base)?;
        let _ = cell.set(read);
    }
    Ok(cell.get().expect("just set"))
}

/// What a plan is made from and carried out against.
pub struct Context<'a> {
    pub config: &'a Config,
    pub snapshots: &'a Path,
    /// The folder relative paths of the configuration are taken from.
    pub base: &'a Path,
}

pub struct Options {
    pub dry_run: bool,
    pub now: Zoned,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// Where the lock file goes.
    pub lock: PathBuf,
    /// The site's templates folder (the report and mail templates can be replaced there).
    pub templates: PathBuf,
    /// How run logs are kept: stable paths for runs that are committed, dated files otherwise.
    pub layout: Layout,
}

/// One thing an apply did: a run, a mail, a record written.
pub struct Done {
    pub kind: Kind,
    /// How it reads in a commit message (`db ok`), when it wrote a file worth one.
    pub summary: Option<String>,
    pub failed: bool,
    /// What it came to, in one line.
    pub headline: String,
    /// The files it wrote.
    pub files: Vec<PathBuf>,
}

/// What `apply` did.
#[derive(Default)]
pub struct Applied {
    pub done: Vec<Done>,
    /// `--dry-run`: what would be done, a block per part.
    pub dry_run: Vec<String>,
    /// Why the plan was refused as a whole (each kind recorded the refusal in `done`).
    pub refused: Option<anyhow::Error>,
}

impl Applied {
    pub fn failed(&self) -> bool {
        self.done.iter().any(|d| d.failed)
    }

    /// Every file written.
    pub fn files(&self) -> Vec<PathBuf> {
        self.done.iter().flat_map(|d| d.files.iter().cloned()).collect()
    }
}

impl Kind {
    fn plan(self, ctx: &Context, now: &Zoned, read: &Analysis, plan: &mut Plan) -> Result<()> {
        match self {
            Kind::Archive => {
                let reach = crate::plan::Reach::List(&crate::archive::destination::list);
                plan.jobs = crate::plan::archive::plans(&ctx.config.archive, ctx.snapshots, now, reach)?;
            }
            Kind::Notify if ctx.config.escalation.is_empty() => {}
            Kind::Notify => {
                let at = crate::time::Instant(now.timestamp().as_second());
                let (_, derived) = analysis(ctx, read)?;
                let (notifications, inputs) =
                    crate::pipeline::plan_notifications(ctx.config, derived, ctx.snapshots, ctx.base, at)?;
                plan.notifications = notifications;
                plan.notify_inputs = inputs;
            }
            Kind::Update if ctx.config.update.is_empty() => {}
            Kind::Update => {
                let (fleet, derived) = analysis(ctx, read)?;
                plan.updates = crate::plan::update::plans(ctx.config, fleet, &derived.apt, ctx.snapshots, now);
            }
        }
        Ok(())
    }

    /// Whether this kind's part of `plan` still holds; the error says why not.
    fn check(self, ctx: &Context, plan: &Plan) -> Result<()> {
        match self {
            Kind::Archive => archive::check(ctx.config, ctx.snapshots, plan),
            Kind::Notify => notify::check(ctx.snapshots, plan),
            Kind::Update => update::check(ctx.snapshots, plan),
        }
    }

    fn apply(
        self,
        ctx: &Context,
        plan: &Plan,
        templates: &tera::Tera,
        opts: &Options,
        out: &mut Applied,
    ) -> Result<()> {
        match self {
            Kind::Archive => archive::apply(ctx.config, ctx.snapshots, plan, templates, opts, out),
            Kind::Notify if opts.dry_run => {
                out.dry_run.extend(notify::dry_run(&plan.notifications));
                Ok(())
            }
            Kind::Notify => {
                let sent = notify::send(ctx.config, templates, ctx.snapshots, &plan.notifications, &opts.now)?;
                out.done.extend(sent);
                Ok(())
            }
            Kind::Update if opts.dry_run => {
                out.dry_run.extend(update::dry_run(&plan.updates));
                Ok(())
            }
            Kind::Update => update::apply(ctx.config, ctx.snapshots, plan, templates, opts, out),
        }
    }

    /// Records that the plan was refused; `config` is `None` when it could not be read.
    fn refuse(
        self,
        config: Option<&Config>,
        snapshots: &Path,
        plan: &Plan,
        cause: &str,
        opts: &Options,
        out: &mut Applied,
    ) -> Result<()> {
        match self {
            Kind::Archive => archive::refuse(config, snapshots, plan, cause, opts, out),
            // A mail not sent comes due again at the next plan, an update at the next
            // plan too: nothing to record.
            Kind::Notify | Kind::Update => Ok(()),
        }
    }
}

/// Makes the plan: every kind's part of it.
pub fn plan(ctx: &Context, now: &Zoned) -> Result<Plan> {
    let mut plan = Plan::new(now);
    let read = Analysis::new();
    for kind in KINDS {
        kind.plan(ctx, now, &read, &mut plan)?;
    }
    plan.seal();
    Ok(plan)
}

/// Carries out `plan`. A refusal (lock held, a part that no longer holds,
/// templates that do not compile) carries nothing out, is recorded by each
/// kind, and is [`Applied::refused`]. An error is what leaves nowhere to
/// record anything: a snapshots folder that is not there.
pub fn apply(ctx: &Context, plan: &Plan, opts: &Options) -> Result<Applied> {
    crate::snapshot::check_folder(ctx.snapshots)?;
    let refuse = |cause| refuse(Some(ctx.config), ctx.snapshots, plan, cause, opts);
    // Under one lock: two applies never run a job or send a step twice.
    let _lock = match opts.dry_run {
        true => None,
        false => match lock::Lock::take(&opts.lock) {
            Ok(lock) => Some(lock),
            Err(e) => return refuse(e),
        },
    };
    if let Err(e) = KINDS.iter().try_for_each(|kind| kind.check(ctx, plan)) {
        return refuse(e);
    }
    let templates = match crate::render::templates::load(&opts.templates, ctx.config.site.language) {
        Ok(t) => t,
        Err(e) => return refuse(e),
    };
    let mut applied = Applied::default();
    for kind in KINDS {
        kind.apply(ctx, plan, &templates, opts, &mut applied)?;
    }
    Ok(applied)
}

/// Records the refusal of `plan` because of `cause`, by every kind, so that
/// a night without an archive says why; `config` is `None` when it could
/// not be read (then nothing is mailed). A dry run records nothing.
pub fn refuse(
    config: Option<&Config>,
    snapshots: &Path,
    plan: &Plan,
    cause: anyhow::Error,
    opts: &Options,
) -> Result<Applied> {
    if opts.dry_run {
        return Err(cause);
    }
    crate::snapshot::check_folder(snapshots)?;
    let text = crate::problem::error_chain(cause.as_ref());
    let mut applied = Applied::default();
    for kind in KINDS {
        kind.refuse(config, snapshots, plan, &text, opts, &mut applied)?;
    }
    applied.refused = Some(cause);
    Ok(applied)
}
