#pragma once
// The window a teacher opens: the control panel on the left; the timeline, the run-queue
// depths, and the request latency / tasks / findings tabs on the right. A live run and an
// opened .tstrace file fill the same views.

#include "document/document_source.hpp"
#include "document/trace_document.hpp"
#include "look/theme.hpp"
#include "sessions/launch_options.hpp"
#include "sessions/live_session.hpp"

#include <QMainWindow>
#include <QPointer>
#include <filesystem>
#include <memory>

class QActionGroup;
class QDockWidget;
class QLabel;
class QLineEdit;
class QListView;
class QTabWidget;
class QTableView;
class QProgressDialog;
class QScrollArea;
class QSortFilterProxyModel;
class QSplitter;

namespace taskscope::ui {

class ControlPanel;
class LatencyChart;
class LessonPanel;
class LessonSession;
class QueueStrip;
class ReplayBar;
class ReplayController;
class LintListModel;
class QueueDepthChart;
class TaskFilterModel;
class AttachSession;
class ResourceTableModel;
class TaskTableModel;
class TimelineView;
class TraceDocument;
class TraceLoader;
class ViewState;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// The window's part of the command line: size, presentation mode, and what the panel
    /// fires (--count, --concurrency), so the next click fires what the command line did.
    void applyLaunchOptions(const LaunchOptions& options);
    /// Starts the engine inside the window.
    bool startLive(const LiveOptions& options);
    /// Opens a trace file in the background (progress dialog, cancellable); fileOpened
    /// says how it went.
    void openFile(const QString& path);
    /// Watches a running program that serves its trace at "HOST:PORT" (TASKSCOPE_LISTEN),
    /// as File > Attach does: connects in the background; an error goes to lastError().
    void attachTo(const QString& address);
    /// The addresses attached to before, newest first (File > Attach offers them).
    [[nodiscard]] static QStringList recentAttachTargets();

    /// Errors go to lastError() and the status bar instead of a dialog (tests, --screenshot).
    void setQuietErrors(bool quiet) { m_quietErrors = quiet; }
    [[nodiscard]] const QString& lastError() const noexcept { return m_lastError; }

    [[nodiscard]] TraceDocument* document() const noexcept { return m_document; }
    [[nodiscard]] ViewState* view() const noexcept { return m_view; }
    [[nodiscard]] LiveSession* session() const noexcept { return m_session; }
    [[nodiscard]] AttachSession* attachSession() const noexcept { return m_attach; }
    [[nodiscard]] ControlPanel* controls() const noexcept { return m_controls; }
    [[nodiscard]] TimelineView* timeline() const noexcept { return m_timeline; }
    [[nodiscard]] QueueDepthChart* queueChart() const noexcept { return m_queues; }
    [[nodiscard]] LatencyChart* latencyChart() const noexcept { return m_latency; }
    [[nodiscard]] TaskTableModel* taskModel() const noexcept { return m_taskModel; }
    [[nodiscard]] ResourceTableModel* resourceModel() const noexcept { return m_resourceModel; }
    /// The Resources tab's table (sorted and filtered through a proxy).
    [[nodiscard]] QTableView* resourceTable() const noexcept { return m_resourceTable; }
    [[nodiscard]] LintListModel* lintModel() const noexcept { return m_lintModel; }
    [[nodiscard]] QTabWidget* tabs() const noexcept { return m_tabs; }
    [[nodiscard]] QueueStrip* queueStrip() const noexcept { return m_queueStrip; }
    [[nodiscard]] LessonPanel* lessonPanel() const noexcept { return m_lessonPanel; }
    [[nodiscard]] LessonSession* lesson() const noexcept { return m_lesson; }
    [[nodiscard]] ReplayController* replay() const noexcept { return m_replay; }
    [[nodiscard]] ReplayBar* replayBar() const noexcept { return m_replayBar; }
    /// The keyboard shortcuts (F1), as HTML with a contents line.
    [[nodiscard]] static QString shortcutsHelp();
    /// The folder File > Open starts in: the open trace's, else the working folder (empty).
    [[nodiscard]] QString openFolder() const;
    /// Where the trace shown comes from, and the file behind it.
    [[nodiscard]] const DocumentSource& source() const noexcept { return m_source; }

    /// Runs a lesson in the window (stops the live engine; the document shows the lesson).
    bool runLesson(const QString& name, double scale);
    /// Starts recording the live run to a temporary .tstrace, or stops and keeps it as the
    /// file behind the document (Save, Export and Replay use it).
    void toggleRecording();
    /// Replays the trace shown (a finished lesson, an opened file, a recording); false
    /// with a message when there is no file behind it.
    bool startReplay();

    /// Applies `theme` to the application, keeps it for the next start and checks it in
    /// View > Theme.
    void setTheme(Theme theme);
    /// Gives `rows` resources a row on the timeline (0, 3, 6 or 12 in View > Resource rows),
    /// keeps the choice for the next start and checks it in the menu.
    void setResourceRows(int rows);
    /// The choice setResourceRows() kept (6 when none was).
    [[nodiscard]] static int savedResourceRows();
    /// How much of a live run or an attached program the window keeps (View > Keep);
    /// kept for the next start when `save`, and checked in the menu.
    void setRetention(const Retention& retention, bool save = true);
    /// The choice setRetention() kept (10 minutes and 20 M events when none was).
    [[nodiscard]] static Retention savedRetention();

public slots:
    void setPresentation(bool on);
    void showShortcuts();

signals:
    /// A file finished loading (ok), failed, or was cancelled (!ok; see lastError()). An
    /// open that a newer openFile() replaced says nothing.
    void fileOpened(bool ok);
    /// Attached to a program (ok), or the attempt failed (!ok; see lastError()).
    void attachFinished(bool ok);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void openDialog();
    void attachDialog();
    /// File > Save the last minute: the attached program's last 60 s, to a file.
    void saveLastMinute();
    void saveAs();
    void exportChrome();
    void exportCsv();
    void updateStatus();
    void updateTitle();
    void showError(const QString& message);
    void jumpToLint(const QModelIndex& index);
    void selectTaskRow();
    /// Selects the selected resource's row in the Resources tab (none: clears it).
    void selectResourceRow();
    /// A load ended one way or another: its progress dialog goes.
    void onLoadEnded();
    void onFileLoaded();
    /// Points the queue strip at what fits the moment: the live queues, the replay's
    /// playhead, or a hint.
    void updateQueueStrip();
    void onReplayMoved();
    /// Makes the Controls dock as wide as its contents want in the font in use.
    void fitSidePanels();
    /// Gives the queue strip room for all its rows, taken from the tallest pane.
    void fitQueueStrip();
    /// Whatever fills the document lets go of it: the replay closes, a running lesson is
    /// abandoned, the live engine stops. Each new source (live, lesson, file) calls this first.
    void releaseDocument();
    /// The document now shows `source`: the title, status and queue strip follow.
    void setSource(DocumentSource source);

    TraceDocument* m_document;
    ViewState* m_view;
    LiveSession* m_session;
    AttachSession* m_attach;
    ControlPanel* m_controls;
    TimelineView* m_timeline;
    QueueDepthChart* m_queues;
    LatencyChart* m_latency;
    TaskTableModel* m_taskModel;
    TaskFilterModel* m_taskFilter;
    LintListModel* m_lintModel;
    QTabWidget* m_tabs;
    QTableView* m_taskTable;
    QLineEdit* m_taskSearch;
    QListView* m_lintList;
    ResourceTableModel* m_resourceModel;
    QTableView* m_resourceTable;
    QLineEdit* m_resourceSearch;
    QLabel* m_status;
    QAction* m_recordAction = nullptr;
    QAction* m_followAction = nullptr;
    QAction* m_presentationAction = nullptr;
    QActionGroup* m_themeActions = nullptr;
    QActionGroup* m_resourceRowActions = nullptr;
    QActionGroup* m_keepTimeActions = nullptr;  ///< View > Keep: how long
    QActionGroup* m_keepEventActions = nullptr; ///< View > Keep: how many events
    QLabel* m_keptNote = nullptr; ///< above the task table: where the kept window starts
    /// "the last 10 min or 20 M events, whichever is less"
    [[nodiscard]] QString keptDescription() const;
    void updateKeptNote();
    QSortFilterProxyModel* m_resourceFilter = nullptr;
    QAction* m_replayAction = nullptr;
    QAction* m_playAction = nullptr;
    QueueStrip* m_queueStrip;
    LessonPanel* m_lessonPanel;
    LessonSession* m_lesson;
    ReplayController* m_replay;
    ReplayBar* m_replayBar;
    QDockWidget* m_lessonDock;
    QDockWidget* m_controlsDock;
    QSplitter* m_split;
    QScrollArea* m_controlsScroll;
    DocumentSource m_source;
    bool m_quietErrors = false;
    QString m_lastError;

    TraceLoader* m_loader;
    QPointer<QProgressDialog> m_progress;
};

} // namespace taskscope::ui
