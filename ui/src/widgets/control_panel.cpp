#include "widgets/control_panel.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>

namespace taskscope::ui {

namespace {

QComboBox* modeBox(const QStringList& values, const QStringList& tips, QWidget* parent) {
    auto* box = new QComboBox(parent);
    for (qsizetype i = 0; i < values.size(); ++i) {
        box->addItem(values[i], values[i]);
        box->setItemData(static_cast<int>(i), tips[i], Qt::ToolTipRole);
    }
    return box;
}

} // namespace

ControlPanel::ControlPanel(LiveSession* session, QWidget* parent)
    : QWidget(parent)
    , m_session(session) {
    auto* layout = new QVBoxLayout(this);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setFrameShape(QFrame::StyledPanel);
    m_note->setMargin(6);
    m_note->hide();
    layout->addWidget(m_note);

    auto* runtimeBox = new QGroupBox(tr("Runtime (changes restart it)"), this);
    auto* runtimeForm = new QFormLayout(runtimeBox);
    m_workers = new QSpinBox(runtimeBox);
    m_workers->setRange(1, static_cast<int>(runtime_options::max_workers));
    m_workers->setValue(2);
    m_workers->setToolTip(tr("Worker threads polling tasks"));
    m_stealing = new QCheckBox(tr("work stealing"), runtimeBox);
    m_stealing->setChecked(true);
    m_stealing->setToolTip(tr("Idle workers take half of a busy worker's queue"));
    m_lifo = new QCheckBox(tr("LIFO slot"), runtimeBox);
    m_lifo->setChecked(true);
    m_lifo->setToolTip(tr("A woken task runs next on the worker that woke it"));
    runtimeForm->addRow(tr("&Workers"), m_workers);
    runtimeForm->addRow(m_stealing);
    runtimeForm->addRow(m_lifo);
    layout->addWidget(runtimeBox);

    auto* serverBox = new QGroupBox(tr("HTTP server"), this);
    auto* serverForm = new QFormLayout(serverBox);
    m_sleepMode =
        modeBox({QStringLiteral("async"), QStringLiteral("blocking"), QStringLiteral("offload")},
                {tr("/sleep awaits a timer: the worker stays free"),
                 tr("/sleep blocks the worker thread: nothing else runs on it"),
                 tr("/sleep runs on the blocking pool")},
                serverBox);
    m_acceptMode =
        modeBox({QStringLiteral("spawn"), QStringLiteral("concurrent"), QStringLiteral("inline")},
                {tr("a task per connection, spread over workers by stealing"),
                 tr("connections run concurrently on the accepting worker"),
                 tr("one connection at a time: the next waits")},
                serverBox);
    m_address = new QLabel(tr("not running"), serverBox);
    m_address->setTextInteractionFlags(Qt::TextSelectableByMouse);
    serverForm->addRow(tr("&Sleep mode"), m_sleepMode);
    serverForm->addRow(tr("&Accept mode"), m_acceptMode);
    serverForm->addRow(tr("Address"), m_address);
    layout->addWidget(serverBox);

    auto* fireBox = new QGroupBox(tr("Fire requests"), this);
    auto* fireForm = new QFormLayout(fireBox);
    m_route = new QComboBox(fireBox);
    m_route->addItem(QStringLiteral("/"), QStringLiteral("/"));
    m_route->addItem(QStringLiteral("/sleep?ms="), QStringLiteral("/sleep?ms=%1"));
    m_route->addItem(QStringLiteral("/cpu?ms="), QStringLiteral("/cpu?ms=%1"));
    m_routeMs = new QSpinBox(fireBox);
    m_routeMs->setRange(0, 60'000);
    m_routeMs->setValue(300);
    m_routeMs->setSuffix(QStringLiteral(" ms"));
    m_count = new QSpinBox(fireBox);
    m_count->setRange(1, 1'000'000);
    m_count->setGroupSeparatorShown(true);
    m_count->setValue(10);
    m_concurrency = new QSpinBox(fireBox);
    m_concurrency->setRange(1, 1000);
    m_concurrency->setValue(1);
    m_concurrency->setToolTip(tr("Connections at once"));
    m_protocol = new QComboBox(fireBox);
    m_protocol->addItem(QStringLiteral("HTTP/1.1"), false);
    m_protocol->addItem(QStringLiteral("HTTP/2"), true);
    m_protocol->setToolTip(tr("HTTP/2 (cleartext, prior knowledge) multiplexes requests on each "
                              "connection: every stream is a task of the server"));
    m_streams = new QSpinBox(fireBox);
    m_streams->setRange(1, 100);
    m_streams->setValue(10);
    m_streams->setToolTip(tr("HTTP/2: requests at once on each connection"));
    m_streams->setEnabled(false);
    connect(m_protocol, &QComboBox::currentIndexChanged, m_streams,
            [this] { m_streams->setEnabled(m_protocol->currentData().toBool()); });
    m_fire = new QPushButton(tr("&Fire"), fireBox);
    m_fire->setToolTip(tr("Send the requests with the built-in load generator (Ctrl+Return)"));
    m_lastResult = new QLabel(fireBox);
    m_lastResult->setWordWrap(true);
    fireForm->addRow(tr("&Route"), m_route);
    fireForm->addRow(tr("Duration"), m_routeMs);
    fireForm->addRow(tr("&Count"), m_count);
    fireForm->addRow(tr("C&oncurrency"), m_concurrency);
    fireForm->addRow(tr("&Protocol"), m_protocol);
    fireForm->addRow(tr("Strea&ms each"), m_streams);
    fireForm->addRow(m_fire);
    fireForm->addRow(m_lastResult);
    layout->addWidget(fireBox);

    auto* chatBox = new QGroupBox(tr("Chat server"), this);
    chatBox->setToolTip(tr("Groups that clients join and post to, one JSON line a message. A "
                           "reader that cannot keep up loses messages and is told how many."));
    auto* chatForm = new QFormLayout(chatBox);
    m_chatCapacity = new QSpinBox(chatBox);
    m_chatCapacity->setRange(1, 1'000'000);
    m_chatCapacity->setGroupSeparatorShown(true);
    m_chatCapacity->setValue(1000);
    m_chatCapacity->setToolTip(tr("Messages a group keeps for its readers: a reader further "
                                  "behind lags (ring backlog)"));
    m_chatBacklog = modeBox(
        {QStringLiteral("ring"), QStringLiteral("unbounded")},
        {tr("one bounded ring a group: a slow reader loses messages and is told; memory stays "
            "bounded"),
         tr("a queue per reader that never drops: a stalled reader makes the server's memory "
            "grow (the mistake)")},
        chatBox);
    m_chatServer = new QPushButton(tr("Start chat server"), chatBox);
    m_chatAddress = new QLabel(tr("not running"), chatBox);
    m_chatAddress->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chatPosters = new QSpinBox(chatBox);
    m_chatPosters->setRange(0, 100);
    m_chatPosters->setValue(2);
    m_chatRate = new QSpinBox(chatBox);
    m_chatRate->setRange(1, 100'000);
    m_chatRate->setValue(500);
    m_chatRate->setSuffix(tr(" /s each"));
    m_chatFast = new QSpinBox(chatBox);
    m_chatFast->setRange(0, 500);
    m_chatFast->setValue(4);
    m_chatSlow = new QSpinBox(chatBox);
    m_chatSlow->setRange(0, 500);
    m_chatSlow->setValue(1);
    m_chatSlowRate = new QSpinBox(chatBox);
    m_chatSlowRate->setRange(0, 100'000);
    m_chatSlowRate->setValue(0);
    m_chatSlowRate->setSuffix(tr(" /s"));
    m_chatSlowRate->setSpecialValueText(tr("stalled"));
    m_chatSlowRate->setToolTip(tr("Messages a second each slow reader reads; stalled: none "
                                  "until the posters stop"));
    m_chatSeconds = new QSpinBox(chatBox);
    m_chatSeconds->setRange(1, 600);
    m_chatSeconds->setValue(3);
    m_chatSeconds->setSuffix(tr(" s"));
    m_chatBytes = new QSpinBox(chatBox);
    m_chatBytes->setRange(16, 60'000);
    m_chatBytes->setValue(256);
    m_chatBytes->setSuffix(tr(" bytes"));
    m_chatBytes->setToolTip(tr("A stalled reader's socket buffers take a few hundred kilobytes "
                               "before the server holds anything for it"));
    m_chatFire = new QPushButton(tr("Fire c&hat load"), chatBox);
    m_chatFire->setToolTip(tr("Posters, fast readers and slow readers in one group (Ctrl+Shift+"
                              "Return)"));
    m_chatResult = new QLabel(chatBox);
    m_chatResult->setWordWrap(true);
    chatForm->addRow(tr("Ca&pacity"), m_chatCapacity);
    chatForm->addRow(tr("&Backlog"), m_chatBacklog);
    chatForm->addRow(m_chatServer);
    chatForm->addRow(tr("Address"), m_chatAddress);
    chatForm->addRow(tr("Posters"), m_chatPosters);
    chatForm->addRow(tr("Post rate"), m_chatRate);
    chatForm->addRow(tr("Fast readers"), m_chatFast);
    chatForm->addRow(tr("Slow readers"), m_chatSlow);
    chatForm->addRow(tr("Slow rate"), m_chatSlowRate);
    chatForm->addRow(tr("Message size"), m_chatBytes);
    chatForm->addRow(tr("Posting for"), m_chatSeconds);
    chatForm->addRow(m_chatFire);
    chatForm->addRow(m_chatResult);
    layout->addWidget(chatBox);
    layout->addStretch(1);
    m_liveOnly = {runtimeBox, serverBox, fireBox, chatBox};
    onChatChanged(0);
    updateRouteControls();

    connect(m_workers, &QSpinBox::valueChanged, this, &ControlPanel::restartRuntime);
    connect(m_stealing, &QCheckBox::toggled, this, &ControlPanel::restartRuntime);
    connect(m_lifo, &QCheckBox::toggled, this, &ControlPanel::restartRuntime);
    connect(m_sleepMode, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_applying) {
            m_session->setSleepMode(
                *net::parse_sleep_mode(m_sleepMode->currentData().toString().toStdString()));
        }
    });
    connect(m_acceptMode, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_applying) {
            m_session->setAcceptMode(
                *net::parse_accept_mode(m_acceptMode->currentData().toString().toStdString()));
        }
    });
    connect(m_route, &QComboBox::currentIndexChanged, this, &ControlPanel::updateRouteControls);
    connect(m_fire, &QPushButton::clicked, this, &ControlPanel::fire);
    connect(session, &LiveSession::started, this, &ControlPanel::onStarted);
    connect(session, &LiveSession::loadFinished, this, &ControlPanel::onLoadFinished);
    connect(session, &LiveSession::chatChanged, this, &ControlPanel::onChatChanged);
    connect(m_chatServer, &QPushButton::clicked, this, &ControlPanel::toggleChatServer);
    connect(m_chatFire, &QPushButton::clicked, this, &ControlPanel::fireChat);
    connect(session, &LiveSession::failed, this,
            [this](const QString& message) { m_lastResult->setText(message); });
}

void ControlPanel::showOptions(const LiveOptions& options) {
    m_applying = true;
    m_workers->setValue(static_cast<int>(options.workers));
    m_stealing->setChecked(options.stealing);
    m_lifo->setChecked(options.lifoSlot);
    m_sleepMode->setCurrentIndex(
        m_sleepMode->findData(QString::fromUtf8(std::string(net::to_string(options.sleep)))));
    m_acceptMode->setCurrentIndex(
        m_acceptMode->findData(QString::fromUtf8(std::string(net::to_string(options.accept)))));
    m_applying = false;
}

void ControlPanel::showRecorded(const trace::run_info& info) {
    LiveOptions options;
    options.workers = std::clamp<std::size_t>(info.workers, 1, runtime_options::max_workers);
    options.stealing = info.stealing;
    options.lifoSlot = info.lifo_slot;
    options.sleep = net::parse_sleep_mode(info.sleep_mode).value_or(net::sleep_mode::async);
    options.accept = net::parse_accept_mode(info.accept_mode).value_or(net::accept_mode::spawn);
    showOptions(options);
    // No HTTP server ran in it, or none the trace knows of (an attached program's own): the
    // boxes stay empty rather than show a default as if it had been recorded.
    if (info.sleep_mode.empty()) {
        m_sleepMode->setCurrentIndex(-1);
    }
    if (info.accept_mode.empty()) {
        m_acceptMode->setCurrentIndex(-1);
    }
    m_address->setText(info.sleep_mode.empty() ? tr("not recorded") : tr("recorded"));
}

void ControlPanel::setLive(bool live, const QString& note) {
    m_live = live;
    for (QWidget* w : m_liveOnly) {
        w->setEnabled(live);
    }
    m_note->setText(note);
    m_note->setVisible(!live && !note.isEmpty());
}

QString ControlPanel::note() const {
    return m_note->isVisible() ? m_note->text() : QString();
}

QString ControlPanel::lastResult() const {
    return m_lastResult->text();
}

FireRequest ControlPanel::currentRequest() const {
    FireRequest request;
    const QString pattern = m_route->currentData().toString();
    request.target =
        pattern.contains(QStringLiteral("%1")) ? pattern.arg(m_routeMs->value()) : pattern;
    request.count = static_cast<std::size_t>(m_count->value());
    request.concurrency = static_cast<std::size_t>(m_concurrency->value());
    request.http2 = m_protocol->currentData().toBool();
    request.streams = static_cast<std::size_t>(m_streams->value());
    return request;
}

void ControlPanel::fire() {
    const FireRequest request = currentRequest();
    m_lastResult->setText(tr("firing %1 x %2 ...").arg(request.count).arg(request.target));
    m_session->fire(request);
}

void ControlPanel::restartRuntime() {
    if (m_applying) {
        return;
    }
    LiveOptions options = m_session->options();
    options.workers = static_cast<std::size_t>(m_workers->value());
    options.stealing = m_stealing->isChecked();
    options.lifoSlot = m_lifo->isChecked();
    options.sleep = *net::parse_sleep_mode(m_sleepMode->currentData().toString().toStdString());
    options.accept = *net::parse_accept_mode(m_acceptMode->currentData().toString().toStdString());
    m_session->start(options);
}

void ControlPanel::onStarted(quint16 port) {
    m_address->setText(QStringLiteral("http://127.0.0.1:%1/").arg(port));
    showOptions(m_session->options());
}

void ControlPanel::onLoadFinished(const QString& summary) {
    (summary.startsWith(QStringLiteral("chat")) ? m_chatResult : m_lastResult)->setText(summary);
}

ChatLoad ControlPanel::currentChatLoad() const {
    ChatLoad load;
    load.posters = static_cast<std::size_t>(m_chatPosters->value());
    load.postRate = m_chatRate->value();
    load.fastReaders = static_cast<std::size_t>(m_chatFast->value());
    load.slowReaders = static_cast<std::size_t>(m_chatSlow->value());
    load.slowRate = m_chatSlowRate->value();
    load.seconds = m_chatSeconds->value();
    load.messageBytes = static_cast<std::size_t>(m_chatBytes->value());
    return load;
}

void ControlPanel::toggleChatServer() {
    if (m_session->chatRunning()) {
        m_session->stopChat();
        return;
    }
    ChatOptions options;
    options.capacity = static_cast<std::size_t>(m_chatCapacity->value());
    options.backlog =
        *net::parse_backlog_mode(m_chatBacklog->currentData().toString().toStdString());
    if (!m_session->startChat(options)) {
        m_chatResult->setText(tr("The chat server did not start."));
    }
}

void ControlPanel::fireChat() {
    if (!m_session->chatRunning() && !m_session->running()) {
        m_chatResult->setText(tr("The live engine is not running: Run > Restart the live engine "
                                 "(Ctrl+L) starts it."));
        return;
    }
    if (!m_session->chatRunning()) {
        toggleChatServer(); // firing at no server starts one with the panel's settings
        if (!m_session->chatRunning()) {
            return;
        }
    }
    const ChatLoad load = currentChatLoad();
    m_chatResult->setText(tr("chatting for %1 s ...").arg(load.seconds));
    m_session->fireChat(load);
}

void ControlPanel::onChatChanged(quint16 port) {
    const bool running = port != 0;
    m_chatServer->setText(running ? tr("Stop chat server") : tr("Start chat server"));
    m_chatAddress->setText(running ? QStringLiteral("127.0.0.1:%1").arg(port) : tr("not running"));
    // Fixed while it runs: stop it to change them.
    m_chatCapacity->setEnabled(!running);
    m_chatBacklog->setEnabled(!running);
}

void ControlPanel::updateRouteControls() {
    m_routeMs->setEnabled(m_route->currentData().toString().contains(QStringLiteral("%1")));
}

} // namespace taskscope::ui
