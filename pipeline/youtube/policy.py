"""Publishing policy: what a preset requires before a video may be public or scheduled.

A preset's `[publish]` table can require a caption file (accessibility), an explicit
made-for-kids answer, and a release record for the people shown (consent forms, or a
statement that no identifiable people appear). Private uploads without `publish_at` are
internal review and pass without them. Unlisted counts as public: anyone with the link
can watch it. The `youtube` preset turns all three rules on.

The preset is read with the shared loader (`pipeline.config`), so a preset that
`extends` another inherits its rules, and user presets win over built-in ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.youtube.metadata import VideoMetadata

RULES = ("require_captions", "require_made_for_kids", "require_release")


@dataclass(frozen=True)
class PublishPolicy:
    preset: str | None = None
    require_captions: bool = False
    require_made_for_kids: bool = False
    require_release: bool = False

    def rules_on(self) -> list[str]:
        return [rule for rule in RULES if getattr(self, rule)]


def load_publish_policy(preset: str | None) -> PublishPolicy:
    """The `[publish]` rules of a named preset (no preset: no rules)."""
    if not preset:
        return PublishPolicy()
    from pipeline.config import load_preset_settings

    rules = load_preset_settings(preset).publish
    return PublishPolicy(preset=preset, **{rule: getattr(rules, rule) for rule in RULES})


def is_public_or_scheduled(meta: VideoMetadata) -> bool:
    return meta.privacy in {"public", "unlisted"} or meta.publish_at not in (None, "")


def check_policy(meta: VideoMetadata, policy: PublishPolicy) -> list[str]:
    """Each missing requirement as a problem naming the rule; none for private review uploads."""
    if not is_public_or_scheduled(meta):
        return []
    what = "scheduled" if meta.publish_at not in (None, "") else meta.privacy
    source = f"preset {policy.preset!r}" if policy.preset else "the publishing policy"
    tail = f"before a video can be {what} (or upload it as private for review)"
    problems: list[str] = []
    if policy.require_captions and meta.captions is None:
        problems.append(f"captions: {source} rule require_captions: a caption file is needed {tail}")
    if policy.require_made_for_kids and not meta.made_for_kids_explicit:
        problems.append(f"made_for_kids: {source} rule require_made_for_kids: state made_for_kids = true or "
                        f"false explicitly {tail}")
    if policy.require_release:
        release = meta.release
        has_forms = bool(release and any(form.strip() for form in release.consent_forms))
        if not (has_forms or (release and release.no_identifiable_people)):
            problems.append(f"release: {source} rule require_release: list [youtube.release] consent_forms or "
                            f"set no_identifiable_people = true {tail}")
    return problems
