"""`wayfinder presets list|show`: the presets a producer can use, fully merged."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from pipeline import config
from pipeline.cli.app import handle_errors
from pipeline.cli.console import out_console


def format_toml(data: dict[str, object]) -> str:
    """Settings as TOML (flat tables of scalars, which is all settings contain)."""
    lines: list[str] = []
    for section, values in data.items():
        assert isinstance(values, dict)
        lines.append(f"[{section}]")
        for key, value in values.items():
            if value is None:
                lines.append(f"# {key} = (not set)")
            else:
                lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    presets_app = typer.Typer(help="List and show presets (built-in and your own).", no_args_is_help=True)

    @presets_app.command("list")
    @handle_errors
    def list_command(json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout.")) -> None:
        """Name, source and description of every preset."""
        presets = config.list_presets()
        if json_out:
            out_console.print_json(json.dumps([
                {"name": p.name, "source": p.source, "path": str(p.path), "description": p.description}
                for p in presets
            ]))
            return
        table = Table(show_header=True)
        for column in ("name", "source", "description"):
            table.add_column(column)
        for p in presets:
            table.add_row(p.name, p.source, p.description)
        out_console.print(table)

    @presets_app.command("show")
    @handle_errors
    def show_command(
        name: str = typer.Argument(..., help="Preset name."),
        json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
    ) -> None:
        """The fully merged values of a preset (defaults < presets it extends < preset)."""
        settings = config.load_preset_settings(name).model_dump(mode="json")
        if json_out:
            out_console.print_json(json.dumps(settings))
            return
        info = config.find_preset(name)
        out_console.print(f"# preset {name} ({info.source}: {info.path})", highlight=False, markup=False)
        out_console.print(format_toml(settings), highlight=False, markup=False)

    app.add_typer(presets_app, name="presets")
