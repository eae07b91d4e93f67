#pragma once
// Colours for what the palette has no role for (errors, warnings, the chart's lines and the map's
// states), chosen for the palette in use: a dark palette (a Base colour of lightness < 128, as
// KDE's Breeze Dark or a Fusion dark palette set) gets lighter variants that stay readable on it.
// Pure functions; GUI thread (QPalette).

#include <QColor>
#include <QPalette>

namespace sparsescope::theme {

bool isDark(const QPalette &palette);
QColor errorText(const QPalette &palette);   // an error line or state
QColor warningText(const QPalette &palette); // "changed upstream" and the like
QColor rateLine(const QPalette &palette);    // the throughput chart's download line
QColor hitsLine(const QPalette &palette);    // its cache-hit line

} // namespace sparsescope::theme
