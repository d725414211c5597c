// The UI tests' main: a QApplication on the offscreen platform (no display needed), then
// Catch2. Widgets are driven with QTest and rendered to images the tests look at. Settings
// and temporary files go to folders of the process's own (own_folders.hpp), never the
// user's and never another test process's.
#include "catch_session.hpp"
#include "own_folders.hpp"

#include <QApplication>
#include <QStandardPaths>
#include <cstdlib>

int main(int argc, char** argv) {
    taskscope::test::use_own_folders();
    if (std::getenv("QT_QPA_PLATFORM") == nullptr) {
        setenv("QT_QPA_PLATFORM", "offscreen", 1);
    }
    QStandardPaths::setTestModeEnabled(true);
    QApplication app(argc, argv);
    return taskscope::test::run_catch_session(argc, argv);
}
