#pragma once
// The window's colours: the platform's own (the default), or a light or a dark palette of
// ours on the Fusion style, which draws every widget from the palette. Applied to the whole
// application; every view repaints from palette() when it changes. The choice made in the
// menu is kept in the settings and used again at the next start.

#include <QPalette>
#include <QString>
#include <QStringView>
#include <optional>

namespace taskscope::ui {

enum class Theme { system, light, dark };

/// "system", "light" or "dark" (any case); nullopt for anything else.
[[nodiscard]] std::optional<Theme> parseTheme(QStringView name);
/// The name parseTheme() reads back.
[[nodiscard]] QString themeName(Theme theme);

/// The palette of `theme`: ours for light and dark, the platform's for system.
[[nodiscard]] QPalette themePalette(Theme theme);
/// Sets the application's style and palette. The first call notes the platform's style, so
/// Theme::system restores it (and its palette) after light or dark.
void applyTheme(Theme theme);
/// The theme last applied (Theme::system before any).
[[nodiscard]] Theme currentTheme() noexcept;

/// The theme kept by saveTheme() (Theme::system when none was or it cannot be read).
[[nodiscard]] Theme savedTheme();
void saveTheme(Theme theme);

} // namespace taskscope::ui
