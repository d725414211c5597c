#include "look/theme.hpp"

#include <QApplication>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>

namespace taskscope::ui {

namespace {

const QString fusion = QStringLiteral("Fusion");
const QString settingsKey = QStringLiteral("view/theme");

/// The platform's look, noted before the first theme replaces it.
struct SystemLook {
    QString style;
    QPalette palette;
};

const SystemLook& systemLook() {
    static const SystemLook look{QApplication::style()->name(), QApplication::palette()};
    return look;
}

Theme g_current = Theme::system; // GUI thread only, as the palette itself

/// Sets `role` in the active and inactive groups to `normal`, in the disabled one to
/// `disabled`.
void set(QPalette& p, QPalette::ColorRole role, QColor normal, QColor disabled) {
    p.setColor(QPalette::Active, role, normal);
    p.setColor(QPalette::Inactive, role, normal);
    p.setColor(QPalette::Disabled, role, disabled);
}

void set(QPalette& p, QPalette::ColorRole role, QColor all) {
    set(p, role, all, all);
}

// Alternate rows (timeline lanes, tables) differ from the base by a few percent of
// lightness in both palettes: visible stripes, not bars.

QPalette darkPalette() {
    QPalette p;
    const QColor text(0xe0, 0xe0, 0xe0);
    const QColor dimmed(0x80, 0x80, 0x80);
    set(p, QPalette::Window, QColor(0x2d, 0x2d, 0x30));
    set(p, QPalette::WindowText, text, dimmed);
    set(p, QPalette::Base, QColor(0x1e, 0x1e, 0x1f), QColor(0x2d, 0x2d, 0x30));
    set(p, QPalette::AlternateBase, QColor(0x27, 0x27, 0x2a));
    set(p, QPalette::ToolTipBase, QColor(0x3c, 0x3c, 0x40));
    set(p, QPalette::ToolTipText, text);
    set(p, QPalette::PlaceholderText, QColor(0xa8, 0xa8, 0xa8), dimmed);
    set(p, QPalette::Text, text, dimmed);
    set(p, QPalette::Button, QColor(0x3a, 0x3a, 0x3e));
    set(p, QPalette::ButtonText, text, dimmed);
    set(p, QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    // Bevels of the Fusion style, lightest to darkest; Mid also draws the lane separators.
    set(p, QPalette::Light, QColor(0x55, 0x55, 0x5a));
    set(p, QPalette::Midlight, QColor(0x46, 0x46, 0x4b));
    set(p, QPalette::Mid, QColor(0x4a, 0x4a, 0x50));
    set(p, QPalette::Dark, QColor(0x1a, 0x1a, 0x1c));
    set(p, QPalette::Shadow, QColor(0x0c, 0x0c, 0x0d));
    set(p, QPalette::Highlight, QColor(0x3d, 0x8e, 0xe6), QColor(0x4a, 0x4a, 0x50));
    set(p, QPalette::HighlightedText, QColor(Qt::white), dimmed);
    set(p, QPalette::Link, QColor(0x6c, 0xb4, 0xff));
    set(p, QPalette::LinkVisited, QColor(0xb4, 0x8c, 0xff));
    return p;
}

QPalette lightPalette() {
    QPalette p;
    const QColor text(0x1a, 0x1a, 0x1a);
    const QColor dimmed(0x9a, 0x9a, 0x9a);
    set(p, QPalette::Window, QColor(0xef, 0xef, 0xef));
    set(p, QPalette::WindowText, text, dimmed);
    set(p, QPalette::Base, QColor(Qt::white), QColor(0xef, 0xef, 0xef));
    set(p, QPalette::AlternateBase, QColor(0xf4, 0xf4, 0xf6));
    set(p, QPalette::ToolTipBase, QColor(0xff, 0xff, 0xdc));
    set(p, QPalette::ToolTipText, QColor(Qt::black));
    set(p, QPalette::PlaceholderText, QColor(0x70, 0x70, 0x70), dimmed);
    set(p, QPalette::Text, text, dimmed);
    set(p, QPalette::Button, QColor(0xef, 0xef, 0xef));
    set(p, QPalette::ButtonText, text, dimmed);
    set(p, QPalette::BrightText, QColor(Qt::white));
    set(p, QPalette::Light, QColor(Qt::white));
    set(p, QPalette::Midlight, QColor(0xf7, 0xf7, 0xf7));
    set(p, QPalette::Mid, QColor(0xb8, 0xb8, 0xb8));
    set(p, QPalette::Dark, QColor(0x9f, 0x9f, 0x9f));
    set(p, QPalette::Shadow, QColor(0x76, 0x76, 0x76));
    set(p, QPalette::Highlight, QColor(0x30, 0x8c, 0xc6), QColor(0x91, 0x91, 0x91));
    set(p, QPalette::HighlightedText, QColor(Qt::white));
    set(p, QPalette::Link, QColor(0x00, 0x66, 0xcc));
    set(p, QPalette::LinkVisited, QColor(0x80, 0x3c, 0xb4));
    return p;
}

} // namespace

std::optional<Theme> parseTheme(QStringView name) {
    for (const Theme theme : {Theme::system, Theme::light, Theme::dark}) {
        if (name.compare(themeName(theme), Qt::CaseInsensitive) == 0) {
            return theme;
        }
    }
    return std::nullopt;
}

QString themeName(Theme theme) {
    switch (theme) {
    case Theme::light:
        return QStringLiteral("light");
    case Theme::dark:
        return QStringLiteral("dark");
    case Theme::system:
        break;
    }
    return QStringLiteral("system");
}

QPalette themePalette(Theme theme) {
    switch (theme) {
    case Theme::light:
        return lightPalette();
    case Theme::dark:
        return darkPalette();
    case Theme::system:
        break;
    }
    return systemLook().palette;
}

void applyTheme(Theme theme) {
    const SystemLook& system = systemLook();
    const QString style = theme == Theme::system ? system.style : fusion;
    if (QApplication::style()->name().compare(style, Qt::CaseInsensitive) != 0) {
        QApplication::setStyle(style);
    }
    // An empty palette hands the colours back to the platform (and its later changes, such
    // as the desktop switching to dark mode at night).
    QApplication::setPalette(theme == Theme::system ? QPalette() : themePalette(theme));
    g_current = theme;
}

Theme currentTheme() noexcept {
    return g_current;
}

Theme savedTheme() {
    const QSettings settings(QStringLiteral("taskscope"), QStringLiteral("taskscope"));
    return parseTheme(settings.value(settingsKey).toString()).value_or(Theme::system);
}

void saveTheme(Theme theme) {
    QSettings settings(QStringLiteral("taskscope"), QStringLiteral("taskscope"));
    settings.setValue(settingsKey, themeName(theme));
}

} // namespace taskscope::ui
