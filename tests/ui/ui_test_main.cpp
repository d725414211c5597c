// The UI tests' main: a QApplication on the offscreen platform (no display needed), then
// Catch2. Widgets are driven with QTest and rendered to images the tests look at. Settings
// go to a test location (~/.qttest), never the user's.
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_CONSOLE_WIDTH 400
#include <QApplication>
#include <QStandardPaths>
#include <catch2/catch.hpp>
#include <cstdlib>

int main(int argc, char** argv) {
    if (std::getenv("QT_QPA_PLATFORM") == nullptr) {
        setenv("QT_QPA_PLATFORM", "offscreen", 1);
    }
    QStandardPaths::setTestModeEnabled(true);
    QApplication app(argc, argv);
    return Catch::Session().run(argc, argv);
}
