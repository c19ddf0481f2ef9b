"""``flask --app wsgi snp ...``: schema, accounts, demo data, background jobs."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from .accounts import users
from .core.errors import DomainError
from .models import Role


@click.group()
def snp():
    """SNP service administration."""


@snp.command("init-db")
@with_appcontext
def init_db():
    """Create or migrate the schema to the latest revision (Alembic)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Schema up to date.")


@snp.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--role", required=True, type=click.Choice(Role.values()))
@click.option("--cpts-id", "cpts_ids", type=int, multiple=True)
@click.option("--practitioner-id", type=int)
@with_appcontext
def create_user(email, password, role, cpts_ids, practitioner_id):
    """Create an account."""
    try:
        user = users.create_user("cli", email=email, password=password, role=role,
                                    cpts_ids=list(cpts_ids), practitioner_id=practitioner_id)
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields or ''}".strip())
    click.echo(f"Created {user.role} account {user.email} (id {user.id}).")


@snp.command("set-password")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def set_password(email, password):
    """Change an account's password: its page sessions and API tokens end."""
    from sqlalchemy import select

    from .core.extensions import db
    from .models import User

    user_id = db.session.scalar(select(User.id).where(User.email == users.normalise_email(email)))
    if user_id is None:
        raise click.ClickException("Compte introuvable")
    try:
        users.change_password("cli", user_id, password)
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields or ''}".strip())
    click.echo(f"Password changed for {users.normalise_email(email)}; its sessions and tokens are ended.")


@snp.command("demo")
@with_appcontext
def demo():
    """Load the demo CPTS (Littoral Vendéen), its members, accounts and slots."""
    from .demo import load_demo

    try:
        accounts_created = load_demo()
    except DomainError as error:  # production refuses the published demo password
        raise click.ClickException(error.message)
    if not accounts_created:
        click.echo("Demo data already loaded.")
        return
    click.echo("Demo accounts (password for all: %s):" % accounts_created[0][2])
    for email, role, _password in accounts_created:
        click.echo(f"  {role:<12} {email}")


@snp.command("scheduler")
def scheduler():
    """Run the background jobs in this process (one leader across instances)."""
    from .scheduling import run_forever

    run_forever(current_app._get_current_object())


@snp.command("run-job")
@click.argument("name")
def run_job(name):
    """Run one background job once, now."""
    from .scheduling import JOBS, run_job as run

    if name not in JOBS:
        raise click.BadParameter(f"unknown job; choose one of {', '.join(sorted(JOBS))}", param_hint="NAME")
    click.echo(f"{name}: {run(current_app._get_current_object(), name)}")


@snp.command("backup")
@click.option("--to", "directory", type=click.Path(file_okay=False),
              help="Folder of the backups (default: the BACKUP_DIR setting). Created mode 700 if missing.")
@with_appcontext
def backup(directory):
    """Back up the whole database (consistent while the service runs); remove backups older than BACKUP_KEEP_DAYS.

    The file holds patient data: it is written mode 600; copy it off the machine encrypted (README)."""
    from .ops import backup as backups

    try:
        path = backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"],
                              directory or current_app.config["BACKUP_DIR"], int(current_app.config["BACKUP_KEEP_DAYS"]))
    except backups.BackupError as error:
        raise click.ClickException(str(error))
    click.echo(f"Backup written: {path} ({path.stat().st_size} bytes).")


@snp.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def restore(file):
    """Restore a backup FILE into the configured database, which must be empty; then run the migrations."""
    from flask_migrate import upgrade

    from . import audit
    from .core.database import write_transaction
    from .core.extensions import db
    from .ops import backup as backups

    db.engine.dispose()
    try:
        backups.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except backups.BackupError as error:
        raise click.ClickException(str(error))
    upgrade()
    with write_transaction():
        audit.record("cli", "database.restore", "database", after={"file": os.path.basename(file)})
    db.engine.dispose()
    click.echo(f"Restored {file}; schema up to date.")


@snp.group("directory")
def directory():
    """The national directory (RPPS extract "PS_LibreAcces")."""


@directory.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--departments", default="", help="Départements to keep, e.g. 85,44 (default: the CPTS territories').")
@with_appcontext
def directory_load(path, departments):
    """Load the extract at PATH in place of the current directory (all or nothing)."""
    from .directory.loading import MalformedExtract, load_extract

    try:
        result = load_extract("cli", path, departments.split(","))
    except MalformedExtract as error:
        for number, reason in error.lines:
            click.echo(f"  ligne {number} : {reason}", err=True)
        if error.count > len(error.lines):
            click.echo(f"  ... et {error.count - len(error.lines)} autre(s)", err=True)
        raise click.ClickException(error.message)
    except DomainError as error:
        raise click.ClickException(error.message)
    click.echo(f"Directory loaded: {result.rows_kept} rows kept of {result.lines_read} lines "
               f"(départements {', '.join(result.departements)}), generation {result.generation}.")
