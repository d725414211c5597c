// View > Theme: the dark palette reaches the window, the timeline's lanes and their labels,
// and the charts; Light brings light back; "Follow the system" restores the platform's
// style and palette. The menu's choice is kept in the settings; --theme's names parse.

#include "charts/queue_depth_chart.hpp"
#include "look/style.hpp"
#include "look/theme.hpp"
#include "widgets/main_window.hpp"
#include "widgets/timeline_view.hpp"

#include <QActionGroup>
#include <QApplication>
#include <QImage>
#include <QMenuBar>
#include <QSignalSpy>
#include <QStyle>
#include <QTest>
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

namespace {

using namespace taskscope;
using ui::MainWindow;
using ui::Theme;

/// The action of View > Theme whose text is `text` (with its mnemonic), or null.
QAction* themeAction(const MainWindow& w, const QString& text) {
    for (QAction* action : w.menuBar()->findChildren<QAction*>()) {
        if (action->text() == text && action->actionGroup() != nullptr) {
            return action;
        }
    }
    return nullptr;
}

QImage imageOf(QWidget& widget) {
    QApplication::processEvents();
    return widget.grab().toImage().convertToFormat(QImage::Format_RGB32);
}

double meanLightness(const QImage& image) {
    double sum = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            sum += QColor(image.pixel(x, y)).lightness();
        }
    }
    return sum / (image.width() * image.height());
}

/// What the timeline shows of its lanes: the background of a lane's label column and
/// the lightness of the label's text pixels (the darkest and the lightest).
struct LaneLook {
    QRgb background = 0;
    QRgb expectedBackground = 0;
    int darkestText = 255;
    int lightestText = 0;
    int textPixels = 0;
};

LaneLook workerLaneLook(ui::TimelineView& view) {
    const QImage image = imageOf(view);
    LaneLook look;
    for (const auto& row : view.rows()) {
        if (row.kind != ui::TimelineView::Row::Kind::worker) {
            continue;
        }
        look.background = image.pixel(2, row.top + 2);
        look.expectedBackground =
            (row.shaded ? view.palette().alternateBase() : view.palette().base()).color().rgb();
        for (int y = row.top + 1; y < row.top + row.height - 1; ++y) {
            for (int x = 4; x < view.labelWidth() - 4; ++x) {
                const QRgb p = image.pixel(x, y);
                if (p != look.background) {
                    const int l = QColor(p).lightness();
                    look.darkestText = std::min(look.darkestText, l);
                    look.lightestText = std::max(look.lightestText, l);
                    ++look.textPixels;
                }
            }
        }
        break;
    }
    return look;
}

/// Puts the platform's look back whatever a test did (the palette is application-wide).
struct RestoreSystemTheme {
    ~RestoreSystemTheme() {
        ui::applyTheme(Theme::system);
        ui::saveTheme(Theme::system);
    }
};

} // namespace

TEST_CASE("theme: names for --theme", "[theme]") {
    CHECK(ui::parseTheme(u"system") == Theme::system);
    CHECK(ui::parseTheme(u"light") == Theme::light);
    CHECK(ui::parseTheme(u"Dark") == Theme::dark);
    CHECK_FALSE(ui::parseTheme(u"purple").has_value());
    CHECK_FALSE(ui::parseTheme(u"").has_value());
    for (const Theme theme : {Theme::system, Theme::light, Theme::dark}) {
        CHECK(ui::parseTheme(ui::themeName(theme)) == theme);
    }
    CHECK(ui::themePalette(Theme::dark).color(QPalette::Window).lightness() < 64);
    CHECK(ui::themePalette(Theme::light).color(QPalette::Window).lightness() > 200);
}

TEST_CASE("theme: the selected task's outline stands out from every task colour in both themes",
          "[theme]") {
    for (const Theme theme : {Theme::light, Theme::dark}) {
        const QPalette palette = ui::themePalette(theme);
        const QColor outline = ui::Style::selectionColor(palette);
        const QColor base = palette.color(QPalette::Base);
        INFO(ui::themeName(theme).toStdString());
        // Task colours sit at mid lightness; the outline is far from it and from the lane.
        CHECK(std::abs(outline.lightness() - ui::Style::taskColor(7).lightness()) > 80);
        CHECK(std::abs(outline.lightness() - base.lightness()) > 120);
    }
}

TEST_CASE("theme: View > Theme switches the window between dark and light and back to the "
          "system's",
          "[theme]") {
    const RestoreSystemTheme restore;
    const QString systemStyle = QApplication::style()->name();
    const QPalette systemPalette = QApplication::palette();

    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    w.show();
    QSignalSpy opened(&w, &MainWindow::fileOpened);
    w.openFile(QString::fromStdString(
        (std::filesystem::path(TASKSCOPE_TEST_DATA) / "demo-blocking.tstrace").string()));
    REQUIRE(QTest::qWaitFor([&] { return opened.count() == 1; }, 20000));
    REQUIRE(opened.front().front().toBool());

    QAction* system = themeAction(w, QStringLiteral("Follow the &system"));
    QAction* light = themeAction(w, QStringLiteral("&Light"));
    QAction* dark = themeAction(w, QStringLiteral("&Dark"));
    REQUIRE(system != nullptr);
    REQUIRE(light != nullptr);
    REQUIRE(dark != nullptr);
    CHECK(system->actionGroup()->isExclusive());
    CHECK(system->isChecked()); // the default
    CHECK_FALSE(light->isChecked());
    CHECK_FALSE(dark->isChecked());

    ui::TimelineView* timeline = w.timeline();

    dark->trigger();
    QApplication::processEvents(); // widgets take the palette from a posted event
    CHECK(dark->isChecked());
    CHECK_FALSE(system->isChecked());
    CHECK(ui::currentTheme() == Theme::dark);
    CHECK(ui::savedTheme() == Theme::dark);
    CHECK(QApplication::style()->name().compare(QStringLiteral("Fusion"), Qt::CaseInsensitive) ==
          0);
    CHECK(w.palette().color(QPalette::Window).lightness() < 64);
    CHECK(timeline->palette().color(QPalette::Base).lightness() < 64);
    {
        const LaneLook look = workerLaneLook(*timeline);
        CHECK(look.background == look.expectedBackground);
        CHECK(QColor(look.background).lightness() < 64);
        CHECK(look.textPixels > 30);    // "worker 0"
        CHECK(look.lightestText > 180); // light text on the dark lane: readable
        CHECK(meanLightness(imageOf(*timeline)) < 100);
        CHECK(meanLightness(imageOf(*w.queueChart())) < 100);
        CHECK(meanLightness(imageOf(w)) < 100);
    }

    light->trigger();
    QApplication::processEvents(); // widgets take the palette from a posted event
    CHECK(light->isChecked());
    CHECK_FALSE(dark->isChecked());
    CHECK(ui::savedTheme() == Theme::light);
    CHECK(w.palette().color(QPalette::Window).lightness() > 200);
    {
        const LaneLook look = workerLaneLook(*timeline);
        CHECK(look.background == look.expectedBackground);
        CHECK(QColor(look.background).lightness() > 200);
        CHECK(look.textPixels > 30);
        CHECK(look.darkestText < 80); // dark text on the light lane
        CHECK(meanLightness(imageOf(*timeline)) > 160);
        CHECK(meanLightness(imageOf(*w.queueChart())) > 160);
    }

    system->trigger();
    QApplication::processEvents(); // widgets take the palette from a posted event
    CHECK(system->isChecked());
    CHECK(ui::savedTheme() == Theme::system);
    CHECK(QApplication::style()->name() == systemStyle);
    for (const auto role : {QPalette::Window, QPalette::WindowText, QPalette::Base,
                            QPalette::AlternateBase, QPalette::Text, QPalette::Highlight}) {
        CHECK(QApplication::palette().color(role) == systemPalette.color(role));
        CHECK(w.palette().color(role) == systemPalette.color(role));
    }
}

TEST_CASE("theme: a window opened later shows the theme applied before it", "[theme]") {
    const RestoreSystemTheme restore;
    ui::applyTheme(Theme::dark);
    MainWindow w;
    QApplication::processEvents();
    CHECK(w.palette().color(QPalette::Window).lightness() < 64);
    QAction* dark = themeAction(w, QStringLiteral("&Dark"));
    REQUIRE(dark != nullptr);
    CHECK(dark->isChecked());
}
