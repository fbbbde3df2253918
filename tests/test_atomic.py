"""edgesal.atomic.write_section: one benchmark's section of a shared Markdown file is replaced, the others kept."""

from __future__ import annotations

from edgesal.atomic import replace_section, write_section


def test_write_section_replaces_its_own_section_and_keeps_the_others(tmp_path):
    path = tmp_path / "crop.md"
    write_section(path, "## Crop benchmark", "## Crop benchmark\n\nold crop table\n")
    write_section(path, "## Video reframing benchmark", "## Video reframing benchmark\n\nreframe table\n")
    assert path.read_text() == ("## Crop benchmark\n\nold crop table\n\n"
                                "## Video reframing benchmark\n\nreframe table\n")
    write_section(path, "## Crop benchmark", "## Crop benchmark\n\nnew crop table\n")  # first section, rerun
    assert path.read_text() == ("## Crop benchmark\n\nnew crop table\n\n"
                                "## Video reframing benchmark\n\nreframe table\n")
    write_section(path, "## Video reframing benchmark", "## Video reframing benchmark\n\nnew reframe\n")  # last
    assert path.read_text().endswith("new crop table\n\n## Video reframing benchmark\n\nnew reframe\n")


def test_replace_section_matches_whole_heading_lines_only():
    text = "intro\n## Crop benchmark extra\n\nkeep\n"
    assert replace_section(text, "## Crop benchmark", "## Crop benchmark\n\nx\n") == text + "\n## Crop benchmark\n\nx\n"
    assert replace_section("", "## A", "## A\n\nx\n") == "## A\n\nx\n"
