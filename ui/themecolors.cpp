#include "themecolors.h"

namespace sparsescope::theme {

bool isDark(const QPalette &palette) { return palette.color(QPalette::Base).lightness() < 128; }

QColor errorText(const QPalette &palette) { return isDark(palette) ? QColor(0xff, 0x7b, 0x72) : QColor(0xc0, 0x20, 0x20); }

QColor warningText(const QPalette &palette) { return isDark(palette) ? QColor(0xf0, 0xb0, 0x50) : QColor(0xb0, 0x60, 0x00); }

QColor rateLine(const QPalette &palette) { return isDark(palette) ? QColor(0x5d, 0xa9, 0xf0) : QColor(0x1f, 0x5f, 0xae); }

QColor hitsLine(const QPalette &palette) { return isDark(palette) ? QColor(0x6c, 0xd0, 0x6c) : QColor(0x2c, 0xa0, 0x2c); }

} // namespace sparsescope::theme
