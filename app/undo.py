"""Undo/redo for mask edits: one QUndoCommand per Edit (only the changed rectangle is stored), on a stack
bounded both in steps and in megabytes so long sessions on large images cannot eat the machine's memory."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.document import Edit, MaskDocument

# The document names its edits in English; these markers let lupdate collect them for translation.
EDIT_NAMES = (
    QT_TRANSLATE_NOOP("Edit", "Brush stroke"),
    QT_TRANSLATE_NOOP("Edit", "Eraser stroke"),
    QT_TRANSLATE_NOOP("Edit", "Rectangle"),
    QT_TRANSLATE_NOOP("Edit", "Ellipse"),
    QT_TRANSLATE_NOOP("Edit", "Polygon"),
    QT_TRANSLATE_NOOP("Edit", "Lasso"),
    QT_TRANSLATE_NOOP("Edit", "Bucket fill"),
    QT_TRANSLATE_NOOP("Edit", "Grow mask"),
    QT_TRANSLATE_NOOP("Edit", "Shrink mask"),
    QT_TRANSLATE_NOOP("Edit", "Invert mask"),
    QT_TRANSLATE_NOOP("Edit", "Clear class"),
    QT_TRANSLATE_NOOP("Edit", "Clear all masks"),
    QT_TRANSLATE_NOOP("Edit", "Import mask"),
    QT_TRANSLATE_NOOP("Edit", "Mask carried over"),
)


class PatchCommand(QUndoCommand):
    """Swaps the before/after patch of one Edit. The edit is already applied when the command is pushed."""

    def __init__(self, document: MaskDocument, edit: Edit) -> None:
        super().__init__(QCoreApplication.translate("Edit", edit.text))
        self.document = document
        self.edit = edit
        self._applied = True

    @property
    def nbytes(self) -> int:
        return self.edit.nbytes

    def redo(self) -> None:
        if self._applied:  # QUndoStack.push calls redo(); the tool already painted it
            self._applied = False
            return
        self.document.apply_patch(self.edit.rect, self.edit.after)

    def undo(self) -> None:
        self.document.apply_patch(self.edit.rect, self.edit.before)


class MaskUndoStack(QUndoStack):
    """A QUndoStack that drops its oldest commands when they pass `max_steps` or `max_mb` megabytes."""

    def __init__(
        self, document: MaskDocument, max_steps: int = 200, max_mb: float = 256.0, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.max_steps = max_steps
        self.max_bytes = int(max_mb * 1024 * 1024)

    def push_edit(self, edit: Edit | None) -> None:
        """Record an edit that the document already shows."""
        if edit is None:
            return
        self.push(PatchCommand(self.document, edit))
        self._trim()

    def commands(self) -> list[PatchCommand]:
        return [self.command(i) for i in range(self.count())]  # type: ignore[misc]

    def nbytes(self) -> int:
        return sum(cmd.nbytes for cmd in self.commands())

    def _trim(self) -> None:
        """QUndoStack cannot drop its oldest command alone, so rebuild it from the commands worth keeping.

        Called right after a push, when the index is at the top, so re-pushed commands need no redo."""
        commands = self.commands()
        keep_from, total = 0, sum(cmd.nbytes for cmd in commands)
        while keep_from < len(commands) - 1 and (len(commands) - keep_from > self.max_steps or total > self.max_bytes):
            total -= commands[keep_from].nbytes
            keep_from += 1
        if keep_from == 0:
            return
        kept = [cmd.edit for cmd in commands[keep_from:]]
        self.clear()
        for edit in kept:
            self.push(PatchCommand(self.document, edit))
