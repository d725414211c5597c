#include "widgets/main_window.hpp"

#include "charts/latency_chart.hpp"
#include "charts/queue_depth_chart.hpp"
#include "document/trace_document.hpp"
#include "document/trace_loader.hpp"
#include "document/view_state.hpp"
#include "look/style.hpp"
#include "look/theme.hpp"
#include "models/lint_list_model.hpp"
#include "models/resource_table_model.hpp"
#include "models/task_filter_model.hpp"
#include "models/task_table_model.hpp"
#include "sessions/attach_session.hpp"
#include "sessions/lesson_session.hpp"
#include "sessions/replay_controller.hpp"
#include "taskscope/analysis/export.hpp"
#include "taskscope/trace_server.hpp"
#include "widgets/control_panel.hpp"
#include "widgets/lesson_panel.hpp"
#include "widgets/queue_strip.hpp"
#include "widgets/replay_bar.hpp"
#include "widgets/timeline_view.hpp"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressDialog>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <fstream>

namespace taskscope::ui {

namespace {

/// What a legend shows: a swatch and what it means.
QWidget* makeLegend(QWidget* parent) {
    auto* legend = new QLabel(parent);
    const auto swatch = [](const QColor& c, const QString& text) {
        return QStringLiteral("<span style='background:%1'>&nbsp;&nbsp;&nbsp;&nbsp;</span>&nbsp;%2")
            .arg(c.name(), text);
    };
    QStringList lines{swatch(Style::taskColor(7), QObject::tr("a poll (one colour per task)")),
                      swatch(Style::blockedColor(), QObject::tr("the task blocked its worker")),
                      swatch(Style::timerColor(), QObject::tr("a timer fired")),
                      swatch(Style::socketColor(), QObject::tr("a socket became ready")),
                      swatch(Style::blockingJobColor(), QObject::tr("a blocking-pool job")),
                      swatch(Style::wakeColor(QApplication::palette()),
                             QObject::tr("wake arrow: waker &rarr; the poll it caused")),
                      swatch(Style::stealColor(), QObject::tr("steal arrow: victim &rarr; thief")),
                      QObject::tr("Empty lane: the worker is parked (idle).")};
    legend->setText(lines.join(QStringLiteral("<br>")));
    legend->setTextFormat(Qt::RichText);
    legend->setWordWrap(true);
    return legend;
}

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    m_document = new TraceDocument(this);
    m_view = new ViewState(this);
    m_session = new LiveSession(m_document, this);
    m_attach = new AttachSession(m_document, this);
    m_loader = new TraceLoader(this);
    connect(m_loader, &TraceLoader::loaded, this, &MainWindow::onFileLoaded);
    connect(m_loader, &TraceLoader::failed, this, [this](const QString& message) {
        onLoadEnded();
        showError(message);
        emit fileOpened(false);
    });
    connect(m_loader, &TraceLoader::cancelled, this, [this] {
        onLoadEnded();
        // What the user asked for: no warning box, the trace shown stays.
        m_lastError =
            tr("Opening %1 was cancelled; the trace shown is unchanged.").arg(m_loader->path());
        statusBar()->showMessage(m_lastError, 8000);
        emit fileOpened(false);
    });

    // Left: the control panel and the legend.
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    m_controls = new ControlPanel(m_session, left);
    leftLayout->addWidget(m_controls);
    leftLayout->addWidget(makeLegend(left));
    leftLayout->addStretch(1);
    auto* dock = new QDockWidget(tr("Controls"), this);
    dock->setObjectName(QStringLiteral("controls"));
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    auto* leftScroll = new QScrollArea(dock);
    leftScroll->setWidget(left);
    leftScroll->setWidgetResizable(true);
    leftScroll->setFrameShape(QFrame::NoFrame);
    leftScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // it is made wide enough
    dock->setWidget(leftScroll);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    m_controlsDock = dock;
    m_controlsScroll = leftScroll;

    // Right: the lesson picker and its explanation, beside the timeline.
    m_lesson = new LessonSession(m_document, this);
    m_lessonPanel = new LessonPanel(this);
    auto* lessonDock = new QDockWidget(tr("Lesson"), this);
    lessonDock->setObjectName(QStringLiteral("lesson"));
    lessonDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                            QDockWidget::DockWidgetClosable);
    lessonDock->setWidget(m_lessonPanel);
    addDockWidget(Qt::RightDockWidgetArea, lessonDock);
    m_lessonDock = lessonDock;

    // Middle: the replay bar (while replaying), the timeline, the run queues as they are
    // now (or at the playhead), queue depths, and the tabs below.
    m_timeline = new TimelineView(m_document, m_view, this);
    m_timeline->setResourceRows(savedResourceRows());
    auto* timelineScroll = new QScrollArea(this);
    timelineScroll->setWidget(m_timeline);
    timelineScroll->setWidgetResizable(true);
    timelineScroll->setFrameShape(QFrame::NoFrame);
    m_replay = new ReplayController(m_document, m_view, this);
    m_replayBar = new ReplayBar(m_replay, m_document, this);
    m_replayBar->hide();
    auto* timelinePane = new QWidget(this);
    auto* timelineLayout = new QVBoxLayout(timelinePane);
    timelineLayout->setContentsMargins(0, 0, 0, 0);
    timelineLayout->setSpacing(0);
    timelineLayout->addWidget(m_replayBar);
    timelineLayout->addWidget(timelineScroll, 1);
    m_queueStrip = new QueueStrip(m_document, m_view, this);
    m_queues = new QueueDepthChart(m_document, m_view, this);
    m_latency = new LatencyChart(m_document, m_view, this);

    m_taskModel = new TaskTableModel(m_document, this);
    m_taskFilter = new TaskFilterModel(this);
    m_taskFilter->setSourceModel(m_taskModel);
    auto* tasksPage = new QWidget(this);
    auto* tasksLayout = new QVBoxLayout(tasksPage);
    m_taskSearch = new QLineEdit(tasksPage);
    m_taskSearch->setPlaceholderText(tr("Filter tasks by name or #id (Ctrl+F)"));
    m_taskSearch->setClearButtonEnabled(true);
    m_taskTable = new QTableView(tasksPage);
    m_taskTable->setModel(m_taskFilter);
    m_taskTable->setSortingEnabled(true);
    m_taskTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_taskTable->setSelectionMode(QAbstractItemView::SingleSelection);
    // Numbers get the width of their header or a typical value; the name takes the rest
    // (measuring every row would cost a pass over a million tasks).
    QHeaderView* header = m_taskTable->horizontalHeader();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(TaskTableModel::NameColumn, QHeaderView::Stretch);
    const QFontMetrics metrics(m_taskTable->font());
    for (int c = 0; c < TaskTableModel::ColumnCount; ++c) {
        if (c != TaskTableModel::NameColumn) {
            const QString heading =
                m_taskModel->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
            header->resizeSection(c,
                                  std::max(metrics.horizontalAdvance(heading),
                                           metrics.horizontalAdvance(QStringLiteral("000.00 ms"))) +
                                      24);
        }
    }
    m_taskTable->verticalHeader()->hide();
    m_keptNote = new QLabel(tasksPage);
    m_keptNote->setWordWrap(true);
    m_keptNote->hide(); // until the retention lets the first events go
    tasksLayout->addWidget(m_keptNote);
    tasksLayout->addWidget(m_taskSearch);
    tasksLayout->addWidget(m_taskTable);

    m_lintModel = new LintListModel(m_document, this);
    m_lintList = new QListView(this);
    m_lintList->setModel(m_lintModel);
    // One line a finding (the whole text in its tooltip): a list of 100,000 findings then
    // lays out from one row's height instead of measuring every row's wrapped text.
    m_lintList->setUniformItemSizes(true);
    m_lintList->setTextElideMode(Qt::ElideRight);
    m_lintList->setToolTip(tr("Click a finding to see it on the timeline"));

    // Resources: channels, locks, semaphores and notifies, sortable and filterable.
    m_resourceModel = new ResourceTableModel(m_document, this);
    auto* resourceFilter = new QSortFilterProxyModel(this);
    m_resourceFilter = resourceFilter;
    resourceFilter->setSourceModel(m_resourceModel);
    resourceFilter->setSortRole(ResourceTableModel::SortRole);
    resourceFilter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    resourceFilter->setFilterKeyColumn(-1); // any column: kind, name, holder
    auto* resourcesPage = new QWidget(this);
    auto* resourcesLayout = new QVBoxLayout(resourcesPage);
    m_resourceSearch = new QLineEdit(resourcesPage);
    m_resourceSearch->setPlaceholderText(tr("Filter resources by kind, name or holder"));
    m_resourceSearch->setClearButtonEnabled(true);
    m_resourceTable = new QTableView(resourcesPage);
    m_resourceTable->setModel(resourceFilter);
    m_resourceTable->setSortingEnabled(true);
    m_resourceTable->sortByColumn(ResourceTableModel::TotalWaitColumn, Qt::DescendingOrder);
    m_resourceTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_resourceTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_resourceTable->verticalHeader()->hide();
    m_resourceTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_resourceTable->horizontalHeader()->setSectionResizeMode(ResourceTableModel::NowColumn,
                                                              QHeaderView::Stretch);
    resourcesLayout->addWidget(m_resourceSearch);
    resourcesLayout->addWidget(m_resourceTable);
    connect(m_resourceSearch, &QLineEdit::textChanged, resourceFilter,
            &QSortFilterProxyModel::setFilterFixedString);

    m_tabs = new QTabWidget(this);
    m_tabs->addTab(m_latency, tr("&Latency"));
    m_tabs->addTab(tasksPage, tr("&Tasks"));
    m_tabs->addTab(resourcesPage, tr("R&esources"));
    m_tabs->addTab(m_lintList, tr("Fi&ndings"));
    m_tabs->setTabToolTip(2, tr("Channels, locks, semaphores and notifies: who waited, how "
                                "long, who holds them"));

    auto* split = new QSplitter(Qt::Vertical, this);
    m_split = split;
    split->addWidget(timelinePane);
    split->addWidget(m_queueStrip);
    split->addWidget(m_queues);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 5);
    split->setStretchFactor(1, 1);
    split->setStretchFactor(2, 2);
    split->setStretchFactor(3, 3);
    split->setSizes({400, 100, 250, 300});
    setCentralWidget(split);

    m_status = new QLabel(this);
    statusBar()->addPermanentWidget(m_status, 1);

    connect(m_taskSearch, &QLineEdit::textChanged, m_taskFilter, &TaskFilterModel::setFilterText);
    connect(m_taskTable->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const QModelIndexList rows = m_taskTable->selectionModel()->selectedRows();
        if (!rows.isEmpty()) {
            const QModelIndex source = m_taskFilter->mapToSource(rows.front());
            m_view->selectTask(m_taskModel->taskAt(source.row()));
        }
    });
    connect(m_view, &ViewState::selectionChanged, this, &MainWindow::selectTaskRow);
    // A row of the Resources tab selects its resource: the timeline shows it and outlines
    // the polls that held it or waited for it.
    connect(m_resourceTable->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] {
                const QModelIndexList rows = m_resourceTable->selectionModel()->selectedRows();
                if (!rows.isEmpty()) {
                    m_view->selectResource(
                        rows.front().data(ResourceTableModel::IdRole).value<quint32>());
                }
            });
    connect(m_view, &ViewState::resourceSelectionChanged, this, &MainWindow::selectResourceRow);
    connect(m_lintList, &QListView::clicked, this, &MainWindow::jumpToLint);
    connect(m_document, &TraceDocument::changed, this, &MainWindow::updateStatus);
    connect(m_document, &TraceDocument::reset, this, [this] {
        updateStatus();
        updateTitle();
    });
    connect(m_document, &TraceDocument::reset, this, &MainWindow::updateQueueStrip);
    // The retention let old events go: a selected task that went with them is deselected;
    // one still kept gets its row back (the task table started its rows over).
    connect(m_document, &TraceDocument::forgotten, this, [this] {
        if (m_document->model().task(m_view->selectedTask()) == nullptr) {
            m_view->selectTask(analysis::no_task);
        } else {
            selectTaskRow();
        }
        updateKeptNote();
    });
    connect(m_document, &TraceDocument::reset, this, &MainWindow::updateKeptNote);
    m_document->setRetention(savedRetention());
    connect(m_queueStrip, &QueueStrip::rowCountChanged, this, &MainWindow::fitQueueStrip);
    connect(m_lessonPanel, &LessonPanel::runRequested, this,
            [this](const QString& name, double scale) { runLesson(name, scale); });
    connect(m_lessonPanel, &LessonPanel::stopRequested, m_lesson, &LessonSession::stop);
    connect(m_lessonPanel, &LessonPanel::replayRequested, this, [this] { startReplay(); });
    connect(m_lesson, &LessonSession::phaseStarted, m_lessonPanel, &LessonPanel::phaseStarted);
    connect(m_lesson, &LessonSession::phaseFinished, m_lessonPanel, &LessonPanel::phaseFinished);
    connect(m_lesson, &LessonSession::phaseFinished, this,
            [this](const QString& line) { statusBar()->showMessage(line, 8000); });
    connect(m_lesson, &LessonSession::finished, this, [this](bool stopped, const QString& error) {
        if (m_lesson->abandoned()) {
            // Its document was taken over by a live run or a file: nothing to replay.
            m_lessonPanel->lessonFinished(true, QString(), false);
            return;
        }
        m_lessonPanel->lessonFinished(stopped, error, error.isEmpty());
        if (!error.isEmpty()) {
            showError(tr("The lesson failed: %1").arg(error));
            return;
        }
        DocumentSource ran = m_source;
        ran.file = m_lesson->recording();
        setSource(std::move(ran));
        m_view->scale().setFollowing(false);
        m_timeline->showAll();
        statusBar()->showMessage(
            stopped ? tr("Lesson stopped. Replay (Ctrl+P) plays back what ran.")
                    : tr("Lesson done. Replay (Ctrl+P) steps through it; File > Save keeps it."),
            15000);
    });
    connect(m_replay, &ReplayController::moved, this, &MainWindow::onReplayMoved);
    connect(m_replay, &ReplayController::failed, this, &MainWindow::showError);
    // The control panel restarts the runtime by itself: whatever was replayed is gone.
    connect(m_session, &LiveSession::started, m_replay, &ReplayController::close);
    connect(m_replay, &ReplayController::closed, this, [this] {
        m_replayBar->hide();
        updateQueueStrip();
    });
    connect(m_session, &LiveSession::failed, this, &MainWindow::showError);
    // A restart from the panel is a new run: an earlier recording is not what is shown now.
    connect(m_session, &LiveSession::started, this,
            [this] { setSource(DocumentSource::liveRun()); });

    connect(m_attach, &AttachSession::attached, this, [this] {
        setSource(DocumentSource::attachedTo(m_attach->address()));
        m_view->scale().setFollowing(true);
        // Newest first, each once, the last eight.
        QStringList recent = recentAttachTargets();
        recent.removeAll(m_attach->address());
        recent.prepend(m_attach->address());
        QSettings(QStringLiteral("taskscope"), QStringLiteral("taskscope"))
            .setValue(QStringLiteral("attach/recent"), recent.mid(0, 8));
        emit attachFinished(true);
    });
    connect(m_attach, &AttachSession::failed, this, [this](const QString& message) {
        showError(message);
        emit attachFinished(false);
    });
    connect(m_attach, &AttachSession::ended, this, [this](const QString& how) {
        DocumentSource ended = m_source;
        ended.file = m_attach->recording();
        setSource(std::move(ended));
        const QString program = QString::fromStdString(m_document->info().command);
        statusBar()->showMessage(
            (how == QLatin1String("the program ended")
                 ? tr("%1 ended; its trace stays.").arg(program)
             : how == QLatin1String("stopped")
                 ? tr("Detached from %1; its trace stays.").arg(program)
                 : tr("The stream from %1 broke (%2); what came stays.").arg(program, how)) +
                tr(" File > Save keeps it, Ctrl+P replays it."),
            20000);
    });

    buildMenus();
    connect(m_timeline, &TimelineView::followingChanged, m_followAction, &QAction::setChecked);
    resize(1400, 900);
    fitSidePanels();
    updateTitle();
    updateStatus();
}

MainWindow::~MainWindow() {
    delete m_loader; // cancels and joins a load still running
    m_loader = nullptr;
    m_session->stop(); // before the document it feeds goes (children die in creation order)
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open trace..."), QKeySequence::Open, this, &MainWindow::openDialog);
    file->addAction(tr("&Attach to a running program..."), QKeySequence(tr("Ctrl+Shift+O")), this,
                    &MainWindow::attachDialog);
    file->addAction(tr("&Detach"), QKeySequence(tr("Ctrl+Shift+D")), m_attach,
                    &AttachSession::detach);
    file->addAction(tr("Save the last &minute of the program..."), this,
                    &MainWindow::saveLastMinute);
    file->addAction(tr("&Save trace as..."), QKeySequence::Save, this, &MainWindow::saveAs);
    file->addAction(tr("Export for &Perfetto (Chrome JSON)..."), QKeySequence(tr("Ctrl+E")), this,
                    &MainWindow::exportChrome);
    file->addAction(tr("Export requests as &CSV..."), this, &MainWindow::exportCsv);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    m_recordAction = run->addAction(tr("&Record to file"), QKeySequence(tr("Ctrl+R")), this,
                                    &MainWindow::toggleRecording);
    m_recordAction->setCheckable(true);
    run->addAction(tr("&Fire requests"), QKeySequence(tr("Ctrl+Return")), m_controls,
                   &ControlPanel::fire);
    run->addAction(tr("Start or stop the &chat server"), m_controls,
                   &ControlPanel::toggleChatServer);
    run->addAction(tr("Fire c&hat load"), QKeySequence(tr("Ctrl+Shift+Return")), m_controls,
                   &ControlPanel::fireChat);
    run->addAction(tr("Restart the &live engine"), QKeySequence(tr("Ctrl+L")), this,
                   [this] { startLive(m_session->options()); });

    run->addSeparator();
    run->addAction(tr("Run the chosen &lesson"), QKeySequence(tr("Ctrl+Shift+L")), this, [this] {
        if (m_lesson->running()) {
            m_lesson->stop();
        } else {
            runLesson(m_lessonPanel->currentLesson(), m_lessonPanel->scale());
        }
    });
    m_replayAction = run->addAction(tr("Re&play the trace shown"), QKeySequence(tr("Ctrl+P")), this,
                                    [this] { startReplay(); });
    m_playAction = run->addAction(tr("Play / pause the replay"), QKeySequence(tr("Space")),
                                  m_replay, &ReplayController::togglePlay);
    m_playAction->setEnabled(false);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    m_followAction = view->addAction(tr("&Follow live"));
    m_followAction->setShortcut(QKeySequence(tr("F")));
    m_followAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_followAction->setCheckable(true);
    connect(m_followAction, &QAction::triggered, m_timeline, &TimelineView::setFollowing);
    view->addAction(tr("Show &all"), QKeySequence(tr("Ctrl+0")), m_timeline,
                    &TimelineView::showAll);
    m_presentationAction = view->addAction(tr("&Presentation mode"));
    m_presentationAction->setShortcut(QKeySequence(tr("F5")));
    m_presentationAction->setCheckable(true);
    connect(m_presentationAction, &QAction::toggled, this, &MainWindow::setPresentation);
    QMenu* resourceRows = view->addMenu(tr("&Resource rows"));
    m_resourceRowActions = new QActionGroup(this);
    for (const int rows : {0, 3, 6, 12}) {
        QAction* action = resourceRows->addAction(rows == 0 ? tr("&None") : QString::number(rows));
        action->setCheckable(true);
        action->setChecked(rows == m_timeline->resourceRows());
        action->setData(rows);
        m_resourceRowActions->addAction(action);
        connect(action, &QAction::triggered, this, [this, rows] { setResourceRows(rows); });
    }
    QMenu* theme = view->addMenu(tr("T&heme"));
    m_themeActions = new QActionGroup(this); // exclusive: one theme at a time
    for (const auto& [choice, label] :
         {std::pair{Theme::system, tr("Follow the &system")}, std::pair{Theme::light, tr("&Light")},
          std::pair{Theme::dark, tr("&Dark")}}) {
        QAction* action = theme->addAction(label);
        action->setCheckable(true);
        action->setChecked(choice == currentTheme());
        action->setData(static_cast<int>(choice));
        m_themeActions->addAction(action);
        connect(action, &QAction::triggered, this, [this, choice] { setTheme(choice); });
    }
    // How much of a live run the window keeps: the older events go, so memory stays flat.
    QMenu* keep = view->addMenu(tr("&Keep of a live run"));
    keep->setToolTipsVisible(true);
    m_keepTimeActions = new QActionGroup(this);
    m_keepEventActions = new QActionGroup(this);
    // A choice sets one field of the retention (how long, how many events).
    const auto addKeepChoice = [this, keep](QActionGroup* group, const QString& label,
                                            std::uint64_t value, std::uint64_t Retention::*field) {
        QAction* action = keep->addAction(label);
        action->setCheckable(true);
        action->setData(QVariant::fromValue<qulonglong>(value));
        group->addAction(action);
        connect(action, &QAction::triggered, this, [this, value, field] {
            Retention r = m_document->retention();
            r.*field = value;
            setRetention(r);
        });
    };
    constexpr std::uint64_t minute = 60'000'000'000;
    addKeepChoice(m_keepTimeActions, tr("The last &minute"), minute, &Retention::keepNs);
    addKeepChoice(m_keepTimeActions, tr("The last &10 minutes"), 10 * minute, &Retention::keepNs);
    addKeepChoice(m_keepTimeActions, tr("The last &hour"), 60 * minute, &Retention::keepNs);
    addKeepChoice(m_keepTimeActions, tr("&All of it"), 0, &Retention::keepNs);
    keep->addSeparator();
    addKeepChoice(m_keepEventActions, tr("At most &5 million events (about 200 MB)"), 5'000'000,
                  &Retention::keepEvents);
    addKeepChoice(m_keepEventActions, tr("At most &20 million events (about 700 MB)"), 20'000'000,
                  &Retention::keepEvents);
    addKeepChoice(m_keepEventActions, tr("At most 1&00 million events (about 3.5 GB)"), 100'000'000,
                  &Retention::keepEvents);
    addKeepChoice(m_keepEventActions, tr("&Any number of events"), 0, &Retention::keepEvents);
    setRetention(m_document->retention(), false); // checks the menu's choices
    view->addAction(m_lessonDock->toggleViewAction());
    view->addAction(tr("Find &task"), QKeySequence::Find, this, [this] {
        m_tabs->setCurrentIndex(1);
        m_taskSearch->setFocus();
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), QKeySequence::HelpContents, this,
                    &MainWindow::showShortcuts);
    help->addAction(tr("&About taskscope"), this, [this] {
        QMessageBox::about(this, tr("About taskscope"),
                           tr("<b>taskscope</b> runs a real async executor and draws how it "
                              "schedules: every poll, wake, steal and block."));
    });
}

bool MainWindow::runLesson(const QString& name, double scale) {
    if (name.isEmpty()) {
        showError(tr("Choose a lesson in the Lesson panel first."));
        return false;
    }
    if (m_lesson->running()) {
        showError(tr("A lesson is running: stop it first (Ctrl+Shift+L)."));
        return false;
    }
    if (m_session->recording()) {
        showError(tr("A recording is running: stop it first (Ctrl+R), so nothing is lost."));
        return false;
    }
    releaseDocument();
    m_lessonPanel->setCurrentLesson(name);
    m_lessonPanel->setScale(scale);
    QString error;
    if (!m_lesson->start(name, scale, &error)) {
        showError(error);
        return false;
    }
    m_lessonPanel->lessonStarted();
    setSource(DocumentSource::lessonRun(name));
    return true;
}

bool MainWindow::startReplay() {
    if (m_lesson->running()) {
        showError(tr("Replay starts once the lesson has ended."));
        return false;
    }
    const std::filesystem::path file = m_source.file;
    if (file.empty()) {
        showError(tr("Replay needs a trace file: run a lesson, open a .tstrace (Ctrl+O), or "
                     "record one (Ctrl+R, run something, Ctrl+R again)."));
        return false;
    }
    if (m_session->recording()) {
        showError(tr("Stop recording (Ctrl+R) before replaying."));
        return false;
    }
    QString error;
    if (!m_replay->open(file, &error)) {
        showError(tr("Cannot replay %1: %2").arg(QString::fromStdString(file.string()), error));
        return false;
    }
    m_timeline->setFollowing(false);
    m_replayBar->show();
    m_playAction->setEnabled(true);
    updateQueueStrip();
    return true;
}

void MainWindow::updateQueueStrip() {
    if (m_replay->active()) {
        m_queueStrip->setSource(&m_replay->cursor()->queues(),
                                tr("at the playhead, %1").arg(m_replay->positionText()));
        return;
    }
    m_playAction->setEnabled(false);
    if (m_document->isLive()) {
        const bool lessonOver =
            m_source.kind == DocumentSource::Kind::lesson && !m_lesson->running();
        const bool programOver =
            m_source.kind == DocumentSource::Kind::attached && !m_attach->running();
        m_queueStrip->setSource(
            &m_document->liveQueues(),
            lessonOver    ? tr("at the end of the lesson; Replay (Ctrl+P) shows any moment")
            : programOver ? tr("when the program stopped; Replay (Ctrl+P) shows any moment")
                          : tr("now"));
        return;
    }
    m_queueStrip->setSource(nullptr, QString(),
                            m_document->model().event_count() == 0
                                ? tr("Start a live run or a lesson to see what waits in each "
                                     "run queue.")
                                : tr("Press Replay (Ctrl+P) to see what waited in each run "
                                     "queue at any moment of this trace."));
}

void MainWindow::onReplayMoved() {
    updateQueueStrip();
    // Keep the playhead in view while playing or stepping.
    TimeScale& s = m_view->scale();
    const auto at = static_cast<double>(m_replay->positionNs());
    if (at < s.startNs() || at > s.endNs()) {
        const double span = s.endNs() - s.startNs();
        m_view->setVisible(at - span * 0.25, at + span * 0.75);
    }
}

void MainWindow::applyLaunchOptions(const LaunchOptions& options) {
    if (options.size) {
        resize(*options.size);
    }
    if (options.presentation) {
        setPresentation(true);
    }
    m_controls->count()->setValue(static_cast<int>(options.fireCount));
    m_controls->concurrency()->setValue(static_cast<int>(options.fireConcurrency));
    m_controls->protocol()->setCurrentIndex(options.fireHttp2 ? 1 : 0);
    m_controls->streams()->setValue(static_cast<int>(options.fireStreams));
    if (options.keepNs || options.keepEvents) { // for this start only, as --theme
        Retention r = m_document->retention();
        r.keepNs = options.keepNs.value_or(r.keepNs);
        r.keepEvents = options.keepEvents.value_or(r.keepEvents);
        setRetention(r, false);
    }
    const QStringList tabs = {"latency", "tasks", "resources", "findings"}; // in tab order
    if (const auto tab = tabs.indexOf(options.tab); tab >= 0) {
        m_tabs->setCurrentIndex(static_cast<int>(tab));
    }
}

bool MainWindow::startLive(const LiveOptions& options) {
    releaseDocument(); // the document is the live run's from here on
    m_controls->showOptions(options);
    const bool ok = m_session->start(options);
    setSource(DocumentSource::liveRun());
    return ok;
}

void MainWindow::openFile(const QString& path) {
    if (m_progress) {
        m_progress->deleteLater(); // the superseded open's
    }
    // Shown with quiet errors too (tests, --screenshot): progress is not an error.
    m_progress = new QProgressDialog(tr("Opening %1 ...").arg(QDir::toNativeSeparators(path)),
                                     tr("Cancel"), 0, 100, this);
    m_progress->setWindowModality(Qt::WindowModal);
    m_progress->setMinimumDuration(300); // only for files that take a while
    connect(m_progress, &QProgressDialog::canceled, m_loader, &TraceLoader::cancel);
    connect(m_loader, &TraceLoader::progress, m_progress, [p = m_progress](int percent) {
        // A value set after Cancel would show the dialog again until the loader stops.
        if (!p->wasCanceled()) {
            p->setValue(percent);
        }
    });
    m_loader->start(path);
}

void MainWindow::onLoadEnded() {
    if (m_progress) {
        // Closing says canceled(): the loader has ended, so that cancels nothing.
        const QSignalBlocker quiet(m_progress);
        m_progress->close();
        m_progress->deleteLater();
    }
}

void MainWindow::onFileLoaded() {
    onLoadEnded();
    PreparedTrace prepared = m_loader->takeResult();
    const QString warning = prepared.warning;
    if (prepared.model->event_count() == 0 && !warning.isEmpty()) {
        // Nothing readable: the trace shown stays (a live run goes on).
        showError(tr("%1 has no readable events (%2); the trace shown stays.")
                      .arg(m_loader->path(), warning));
        emit fileOpened(false);
        return;
    }
    releaseDocument();
    m_document->adopt(std::move(prepared));
    setSource(DocumentSource::openedFile(m_loader->path().toStdString()));
    if (!warning.isEmpty()) {
        showError(tr("%1 is damaged: %2").arg(m_loader->path(), warning));
    }
    emit fileOpened(true);
}

QString MainWindow::openFolder() const {
    // Where the trace shown lives: the next file is usually beside it.
    return m_source.kind == DocumentSource::Kind::file
               ? QString::fromStdString(m_source.file.parent_path().string())
               : QString();
}

void MainWindow::openDialog() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open a trace"), openFolder(), tr("taskscope traces (*.tstrace);;All files (*)"));
    if (!path.isEmpty()) {
        openFile(path);
    }
}

QStringList MainWindow::recentAttachTargets() {
    return QSettings(QStringLiteral("taskscope"), QStringLiteral("taskscope"))
        .value(QStringLiteral("attach/recent"))
        .toStringList();
}

void MainWindow::attachTo(const QString& address) {
    releaseDocument(); // the document is the program's from when it answers
    statusBar()->showMessage(tr("Attaching to %1 ...").arg(address), 5000);
    m_attach->attach(address.trimmed());
}

void MainWindow::saveLastMinute() {
    if (!m_attach->hasLast()) {
        showError(tr("Attach to a running program first (File > Attach): its last minute is "
                     "kept while it is watched."));
        return;
    }
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save the last minute"), QDir::homePath() + QStringLiteral("/last-minute.tstrace"),
        tr("taskscope traces (*.tstrace)"));
    if (path.isEmpty()) {
        return;
    }
    if (const auto events = m_attach->saveLast(path.toStdString())) {
        statusBar()->showMessage(
            tr("Saved the program's last minute (%1 events) to %2").arg(*events).arg(path), 10000);
    } else {
        showError(tr("Could not write %1").arg(path));
    }
}

void MainWindow::attachDialog() {
    QStringList targets = recentAttachTargets();
    if (targets.isEmpty()) {
        targets << QString::fromLatin1(default_trace_address);
    }
    bool ok = false;
    const QString address =
        QInputDialog::getItem(this, tr("Attach to a running program"),
                              tr("A program serves its trace when started with %1=HOST:PORT\n"
                                 "(it prints where). Address:")
                                  .arg(QString::fromLatin1(trace_listen_variable)),
                              targets, 0, true, &ok);
    if (ok && !address.trimmed().isEmpty()) {
        attachTo(address);
    }
}

void MainWindow::fitQueueStrip() {
    QList<int> sizes = m_split->sizes();
    const int strip = m_split->indexOf(m_queueStrip);
    const int need = m_queueStrip->minimumSizeHint().height() - sizes[strip];
    if (need <= 0) {
        return;
    }
    const auto tallest =
        static_cast<int>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
    if (tallest == strip || sizes[tallest] - need < 120) {
        return; // nothing to take it from: the strip shrinks its rows instead
    }
    sizes[tallest] -= need;
    sizes[strip] += need;
    m_split->setSizes(sizes);
}

void MainWindow::fitSidePanels() {
    // The controls never clip: the dock is as wide as they want in the font in use.
    QWidget* inner = m_controlsScroll->widget();
    inner->ensurePolished();
    const int wanted = inner->minimumSizeHint().width() +
                       m_controlsScroll->verticalScrollBar()->sizeHint().width() + 4;
    m_controlsScroll->setMinimumWidth(wanted);
    resizeDocks({m_controlsDock}, {wanted}, Qt::Horizontal);
}

void MainWindow::releaseDocument() {
    m_attach->abandon();
    m_replay->close();
    m_lesson->abandon();
    m_session->stop();
}

void MainWindow::setSource(DocumentSource source) {
    m_source = std::move(source);
    // The panels show what the document shows: the live controls, or the recorded run's
    // settings read-only; the lesson of the trace, or none.
    const QString backToLive = tr("Run > Restart the live engine (Ctrl+L) goes back to live.");
    switch (m_source.kind) {
    case DocumentSource::Kind::nothing:
    case DocumentSource::Kind::live:
        m_controls->setLive(true);
        m_lessonPanel->setCurrentLesson({});
        break;
    case DocumentSource::Kind::lesson:
        m_controls->setLive(false, tr("The lesson runs its own runtime. %1").arg(backToLive));
        m_lessonPanel->setCurrentLesson(m_source.lesson);
        break;
    case DocumentSource::Kind::file:
        m_controls->showRecorded(m_document->info());
        m_controls->setLive(
            false, tr("Showing how %1 was recorded (read-only). %2")
                       .arg(QString::fromStdString(m_source.file.filename().string()), backToLive));
        m_lessonPanel->setCurrentLesson(QString::fromStdString(m_document->info().lesson));
        break;
    case DocumentSource::Kind::attached:
        m_controls->showRecorded(m_document->info());
        m_controls->setLive(false,
                            tr("Watching %1 at %2: the program runs its own work (read-only). "
                               "File > Detach stops watching. %3")
                                .arg(QString::fromStdString(m_document->info().command),
                                     m_source.address, backToLive));
        m_lessonPanel->setCurrentLesson({});
        break;
    }
    updateTitle();
    updateStatus();
    updateQueueStrip();
}

void MainWindow::saveAs() {
    const std::filesystem::path source = m_source.file;
    if (source.empty()) {
        showError(tr("There is no trace file to save yet: press Record (Ctrl+R), run something, "
                     "press Record again, then save."));
        return;
    }
    const QString target =
        QFileDialog::getSaveFileName(this, tr("Save the trace"), QStringLiteral("trace.tstrace"),
                                     tr("taskscope traces (*.tstrace)"));
    if (target.isEmpty()) {
        return;
    }
    std::error_code ec;
    std::filesystem::copy_file(source, target.toStdString(),
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
        showError(tr("Could not save %1: %2").arg(target, QString::fromStdString(ec.message())));
    }
}

void MainWindow::exportChrome() {
    const std::filesystem::path source = m_source.file;
    if (source.empty()) {
        showError(tr("Export needs a trace file: open one, or record one with Ctrl+R."));
        return;
    }
    const QString target = QFileDialog::getSaveFileName(
        this, tr("Export for Perfetto"), QStringLiteral("trace.json"), tr("JSON (*.json)"));
    if (target.isEmpty()) {
        return;
    }
    try {
        trace::file_reader reader(source);
        std::ofstream out(target.toStdString(), std::ios::binary | std::ios::trunc);
        analysis::chrome_trace_writer writer(out, reader.info());
        trace::read_all(reader, [&](std::span<const trace::event> chunk, const auto& names) {
            writer.consume(chunk, names);
            return true;
        });
        writer.finish();
        if (!out) {
            showError(tr("Writing %1 failed.").arg(target));
        }
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
    }
}

void MainWindow::exportCsv() {
    const QString target = QFileDialog::getSaveFileName(
        this, tr("Export requests"), QStringLiteral("requests.csv"), tr("CSV (*.csv)"));
    if (target.isEmpty()) {
        return;
    }
    std::ofstream out(target.toStdString(), std::ios::binary | std::ios::trunc);
    analysis::write_requests_csv(m_document->model(), out);
    if (!out) {
        showError(tr("Writing %1 failed.").arg(target));
    }
}

void MainWindow::toggleRecording() {
    if (m_session->recording()) {
        DocumentSource recorded = m_source;
        recorded.file = m_session->stopRecording();
        const QString path = QString::fromStdString(recorded.file.string());
        setSource(std::move(recorded));
        m_recordAction->setChecked(false);
        statusBar()->showMessage(tr("Recorded to %1: File > Save trace as... keeps it").arg(path),
                                 8000);
        return;
    }
    const auto path =
        std::filesystem::temp_directory_path() /
        ("taskscope-" + std::to_string(QDateTime::currentMSecsSinceEpoch()) + ".tstrace");
    QString error;
    if (!m_session->startRecording(path, &error)) {
        m_recordAction->setChecked(false);
        showError(error);
        return;
    }
    m_recordAction->setChecked(true);
    statusBar()->showMessage(tr("Recording... press Ctrl+R again to stop"), 4000);
}

void MainWindow::setPresentation(bool on) {
    m_view->setPresentation(on);
    QFont font = QApplication::font();
    static const qreal normal = font.pointSizeF();
    font.setPointSizeF(on ? normal * 1.4 : normal);
    QApplication::setFont(font);
    // After the font change has reached every widget (it is delivered as events).
    QTimer::singleShot(0, this, &MainWindow::fitSidePanels);
    if (m_presentationAction->isChecked() != on) {
        m_presentationAction->setChecked(on);
    }
}

void MainWindow::setTheme(Theme theme) {
    applyTheme(theme);
    saveTheme(theme);
    for (QAction* action : m_themeActions->actions()) {
        action->setChecked(action->data().toInt() == static_cast<int>(theme));
    }
}

namespace {
const QString resourceRowsKey = QStringLiteral("view/resourceRows");
const QString keepSecondsKey = QStringLiteral("view/keepSeconds");
const QString keepEventsKey = QStringLiteral("view/keepEvents");
} // namespace

Retention MainWindow::savedRetention() {
    const QSettings settings(QStringLiteral("taskscope"), QStringLiteral("taskscope"));
    Retention r;
    bool ok = false;
    const qulonglong seconds = settings.value(keepSecondsKey).toULongLong(&ok);
    if (ok && seconds <= 7ull * 24 * 3600) {
        r.keepNs = seconds * 1'000'000'000ull;
    }
    const qulonglong events = settings.value(keepEventsKey).toULongLong(&ok);
    if (ok && (events == 0 || events >= 10'000)) {
        r.keepEvents = events;
    }
    return r;
}

void MainWindow::setRetention(const Retention& retention, bool save) {
    m_document->setRetention(retention);
    if (save) {
        QSettings settings(QStringLiteral("taskscope"), QStringLiteral("taskscope"));
        settings.setValue(keepSecondsKey,
                          QVariant::fromValue<qulonglong>(retention.keepNs / 1'000'000'000ull));
        settings.setValue(keepEventsKey, QVariant::fromValue<qulonglong>(retention.keepEvents));
    }
    // A value from --keep that no entry offers leaves its group unchecked.
    for (QAction* action : m_keepTimeActions->actions()) {
        action->setChecked(action->data().toULongLong() == retention.keepNs);
    }
    for (QAction* action : m_keepEventActions->actions()) {
        action->setChecked(action->data().toULongLong() == retention.keepEvents);
    }
    updateStatus();
}

QString MainWindow::keptDescription() const {
    const Retention& r = m_document->retention();
    // "10 min", "1 h", "90 s": as the menu and --keep name them.
    constexpr std::uint64_t second = 1'000'000'000;
    QString time;
    if (r.keepNs != 0 && r.keepNs % (3600 * second) == 0) {
        time = tr("%1 h").arg(r.keepNs / (3600 * second));
    } else if (r.keepNs != 0 && r.keepNs % (60 * second) == 0) {
        time = tr("%1 min").arg(r.keepNs / (60 * second));
    } else if (r.keepNs != 0) {
        time = QString::fromStdString(analysis::format_duration(r.keepNs, 0));
    }
    const QString events =
        r.keepEvents == 0
            ? QString()
            : tr("%L1 M events").arg(static_cast<double>(r.keepEvents) / 1e6, 0, 'g', 3);
    if (!time.isEmpty() && !events.isEmpty()) {
        return tr("the last %1 or %2, whichever is less").arg(time, events);
    }
    if (!time.isEmpty() || !events.isEmpty()) {
        return tr("the last %1").arg(time.isEmpty() ? events : time);
    }
    return tr("everything");
}

void MainWindow::updateKeptNote() {
    const std::uint64_t forgotten = m_document->forgottenEvents();
    if (forgotten == 0) {
        m_keptNote->hide();
        return;
    }
    const std::uint64_t from = m_document->keptFromNs() - m_document->firstNs();
    m_keptNote->setText(
        tr("Showing tasks alive from %1 on, where the kept window starts: the window keeps %2 "
           "(View > Keep of a live run), and %L3 older events were let go.")
            .arg(QString::fromStdString(analysis::format_duration(from)), keptDescription())
            .arg(forgotten));
    m_keptNote->show();
}

int MainWindow::savedResourceRows() {
    const QSettings settings(QStringLiteral("taskscope"), QStringLiteral("taskscope"));
    bool ok = false;
    const int rows = settings.value(resourceRowsKey).toInt(&ok);
    return ok && rows >= 0 && rows <= 64 ? rows : 6;
}

void MainWindow::setResourceRows(int rows) {
    m_timeline->setResourceRows(rows);
    QSettings settings(QStringLiteral("taskscope"), QStringLiteral("taskscope"));
    settings.setValue(resourceRowsKey, rows);
    for (QAction* action : m_resourceRowActions->actions()) {
        action->setChecked(action->data().toInt() == rows);
    }
}

QString MainWindow::shortcutsHelp() {
    return tr("<p><b>Contents:</b> <a href='#timeline'>Timeline</a> &middot; "
              "<a href='#window'>Window</a> &middot; <a href='#replay'>Replay</a></p>"
              "<h3><a name='timeline'></a>Timeline</h3><table cellpadding='3'>"
              "<tr><td><b>W</b> / <b>S</b>, mouse wheel</td><td>zoom in / out (about the "
              "cursor)</td></tr>"
              "<tr><td><b>A</b> / <b>D</b>, drag</td><td>pan back / forward in time</td></tr>"
              "<tr><td><b>F</b></td><td>follow the live end on / off</td></tr>"
              "<tr><td><b>0</b>, <b>Ctrl+0</b></td><td>show the whole trace</td></tr>"
              "<tr><td>click a slice</td><td>select its task: its polls and wake arrows light "
              "up</td></tr>"
              "<tr><td>click a resource row</td><td>select the resource (also from the "
              "Resources tab): the polls that held it and that waited for it are outlined"
              "</td></tr>"
              "<tr><td><b>Esc</b></td><td>clear the selection</td></tr></table>"
              "<h3><a name='window'></a>Window</h3><table cellpadding='3'>"
              "<tr><td><b>Ctrl+Return</b></td><td>fire the requests set in the panel</td></tr>"
              "<tr><td><b>Ctrl+R</b></td><td>record to a file / stop recording</td></tr>"
              "<tr><td><b>Ctrl+L</b></td><td>restart the live engine</td></tr>"
              "<tr><td><b>Ctrl+Shift+L</b></td><td>run the lesson chosen on the right / stop "
              "it</td></tr>"
              "<tr><td><b>Ctrl+O</b> / <b>Ctrl+S</b></td><td>open / save a .tstrace file</td></tr>"
              "<tr><td><b>Ctrl+E</b></td><td>export for Perfetto (Chrome JSON)</td></tr>"
              "<tr><td><b>Ctrl+F</b></td><td>find a task</td></tr>"
              "<tr><td><b>F5</b></td><td>presentation mode (larger text for a projector)</td></tr>"
              "<tr><td>View &gt; Resource rows</td><td>how many channels and locks get a "
              "row under the timeline</td></tr>"
              "<tr><td>View &gt; Theme</td><td>light, dark, or follow the system (also "
              "<tt>--theme</tt>)</td></tr>"
              "<tr><td><b>F1</b></td><td>this list</td></tr></table>"
              "<h3><a name='replay'></a>Replay</h3><table cellpadding='3'>"
              "<tr><td><b>Ctrl+P</b></td><td>replay the trace shown (a lesson just run, an "
              "opened file, a recording)</td></tr>"
              "<tr><td><b>Space</b></td><td>play / pause</td></tr>"
              "<tr><td><b>N</b> / <b>K</b> / <b>L</b></td><td>step to the next poll / wake / "
              "steal</td></tr>"
              "<tr><td><b>Home</b></td><td>back to the start</td></tr>"
              "<tr><td>speed box</td><td>0.1&times; to 10&times; of real time</td></tr></table>");
}

void MainWindow::showShortcuts() {
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Keyboard shortcuts"));
    auto* layout = new QVBoxLayout(&dialog);
    auto* text = new QTextBrowser(&dialog);
    text->setHtml(shortcutsHelp());
    layout->addWidget(text);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, &dialog);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog.resize(560, 480);
    dialog.exec();
}

void MainWindow::updateStatus() {
    const analysis::model& m = m_document->model();
    QString text = tr("%1 events, %2 dropped, %3 tasks, %4 polls")
                       .arg(m.event_count())
                       .arg(m.dropped())
                       .arg(m.tasks().size())
                       .arg(m.poll_count());
    switch (m_source.kind) {
    case DocumentSource::Kind::nothing:
        break;
    case DocumentSource::Kind::lesson:
        text += tr("  |  lesson %1%2")
                    .arg(m_source.lesson, m_lesson->running() ? tr(" (running)") : QString());
        break;
    case DocumentSource::Kind::live:
        if (m_session->running()) {
            text += tr("  |  live on 127.0.0.1:%1").arg(m_session->port());
            // More than about a second of a busy server's events still to take in.
            if (m_session->backlog() > 200'000) {
                text += tr("  |  catching up: %1 events behind").arg(m_session->backlog());
            }
        } else {
            text += tr("  |  live run stopped");
        }
        break;
    case DocumentSource::Kind::file:
        text += QStringLiteral("  |  ") + m_document->source();
        break;
    case DocumentSource::Kind::attached: {
        const trace::run_info& info = m_document->info();
        const QString program =
            info.pid != 0
                ? tr("%1 (pid %2)").arg(QString::fromStdString(info.command)).arg(info.pid)
                : QString::fromStdString(info.command);
        if (m_attach->running()) {
            text += tr("  |  attached to %1 at %2, %3 events/s")
                        .arg(program, m_source.address)
                        .arg(static_cast<qlonglong>(m_attach->eventsPerSecond()));
            if (m_attach->backlog() > 200'000) {
                text += tr("  |  catching up: %1 events behind").arg(m_attach->backlog());
            }
        } else {
            text += tr("  |  %1 at %2, no longer attached").arg(program, m_source.address);
        }
        break;
    }
    }
    if (m_document->forgottenEvents() > 0) {
        text += tr("  |  kept from %1: %L2 events (%3)")
                    .arg(QString::fromStdString(analysis::format_duration(m_document->keptFromNs() -
                                                                          m_document->firstNs())))
                    .arg(m_document->keptEvents())
                    .arg(keptDescription());
    }
    if (!m_document->warning().isEmpty()) {
        text += tr("  |  damaged: %1").arg(m_document->warning());
    }
    m_status->setText(text);
}

void MainWindow::updateTitle() {
    const trace::run_info& info = m_document->info();
    const QString lesson = m_source.kind == DocumentSource::Kind::lesson
                               ? m_source.lesson
                               : QString::fromStdString(info.lesson);
    QString what;
    switch (m_source.kind) {
    case DocumentSource::Kind::nothing:
        setWindowTitle(tr("taskscope"));
        return;
    case DocumentSource::Kind::lesson:
        setWindowTitle(tr("taskscope: lesson %1").arg(lesson));
        return;
    case DocumentSource::Kind::live:
        what = tr("live");
        break;
    case DocumentSource::Kind::attached:
        what = info.pid != 0
                   ? tr("%1, pid %2").arg(QString::fromStdString(info.command)).arg(info.pid)
                   : QString::fromStdString(info.command);
        break;
    case DocumentSource::Kind::file: // the name in the title, the whole path in the status bar
        what = QString::fromStdString(m_source.file.filename().string());
        if (!lesson.isEmpty()) { // a lesson's recording, opened again
            setWindowTitle(tr("taskscope: lesson %1 (%2)").arg(lesson, what));
            return;
        }
        break;
    }
    setWindowTitle(tr("taskscope: %1 (%2%3)")
                       .arg(what)
                       .arg(info.workers == 1 ? tr("1 worker") : tr("%1 workers").arg(info.workers))
                       .arg(info.sleep_mode.empty()
                                ? QString()
                                : tr(", sleep %1").arg(QString::fromStdString(info.sleep_mode))));
}

void MainWindow::showError(const QString& message) {
    m_lastError = message;
    statusBar()->showMessage(message, 15000);
    if (!m_quietErrors) {
        QMessageBox::warning(this, tr("taskscope"), message);
    }
}

void MainWindow::jumpToLint(const QModelIndex& index) {
    if (!index.isValid()) {
        return;
    }
    const auto at = static_cast<double>(index.data(LintListModel::TimeRole).toULongLong());
    const auto duration = static_cast<double>(
        std::max<qulonglong>(index.data(LintListModel::DurationRole).toULongLong(), 1'000'000));
    m_timeline->setFollowing(false);
    m_view->setVisible(at - duration * 0.5, at + duration * 1.5);
    m_view->selectTask(index.data(LintListModel::TaskRole).toUInt());
}

void MainWindow::selectResourceRow() {
    const std::uint32_t id = m_view->selectedResource();
    const QSignalBlocker block(m_resourceTable->selectionModel());
    if (id == 0) {
        m_resourceTable->clearSelection();
        return;
    }
    for (int row = 0; row < m_resourceFilter->rowCount(); ++row) {
        const QModelIndex index = m_resourceFilter->index(row, 0);
        if (index.data(ResourceTableModel::IdRole).value<quint32>() == id) {
            m_resourceTable->selectRow(row);
            return;
        }
    }
}

void MainWindow::selectTaskRow() {
    const analysis::task_ref task = m_view->selectedTask();
    if (task == analysis::no_task) {
        m_taskTable->clearSelection();
        return;
    }
    const int row = m_taskModel->rowOf(task);
    if (row < 0) {
        return;
    }
    const QModelIndex proxy = m_taskFilter->mapFromSource(m_taskModel->index(row, 0));
    if (proxy.isValid() && m_taskTable->currentIndex().row() != proxy.row()) {
        const QSignalBlocker block(m_taskTable->selectionModel());
        m_taskTable->selectRow(proxy.row());
        m_taskTable->scrollTo(proxy);
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    m_loader->cancel();
    m_lesson->stop(); // it ends after its current phase (the window waits for that)
    if (m_session->recording()) {
        m_session->stopRecording(); // the file is complete on disk for whoever wants it
    }
    m_session->stop();
    event->accept();
}

} // namespace taskscope::ui
