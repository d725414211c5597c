#pragma once
// The panel a teacher drives the live engine from: runtime knobs (restart on change), the
// server's sleep and accept modes (at once), and "fire requests".

#include "sessions/live_session.hpp"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace taskscope::ui {

class ControlPanel : public QWidget {
    Q_OBJECT
public:
    ControlPanel(LiveSession* session, QWidget* parent = nullptr);

    /// Shows `options` without acting on them (after a start from the command line).
    void showOptions(const LiveOptions& options);
    /// Shows the settings a trace was recorded with, without acting on them.
    void showRecorded(const trace::run_info& info);
    /// Live: the controls act on the running engine. Otherwise they are read-only and
    /// `note` above them says what is shown and how to go back to live.
    void setLive(bool live, const QString& note = {});
    [[nodiscard]] bool live() const noexcept { return m_live; }
    [[nodiscard]] QString note() const;
    /// The request the fire button sends now.
    [[nodiscard]] FireRequest currentRequest() const;

    // For tests and shortcuts.
    [[nodiscard]] QPushButton* fireButton() const noexcept { return m_fire; }
    [[nodiscard]] QComboBox* sleepMode() const noexcept { return m_sleepMode; }
    [[nodiscard]] QComboBox* acceptMode() const noexcept { return m_acceptMode; }
    [[nodiscard]] QSpinBox* workers() const noexcept { return m_workers; }
    [[nodiscard]] QComboBox* route() const noexcept { return m_route; }
    [[nodiscard]] QSpinBox* routeMs() const noexcept { return m_routeMs; }
    [[nodiscard]] QSpinBox* count() const noexcept { return m_count; }
    [[nodiscard]] QSpinBox* concurrency() const noexcept { return m_concurrency; }
    [[nodiscard]] QComboBox* protocol() const noexcept { return m_protocol; }
    [[nodiscard]] QSpinBox* streams() const noexcept { return m_streams; }
    /// What the last load did ("firing ...", then its summary).
    [[nodiscard]] QString lastResult() const;
    [[nodiscard]] QPushButton* chatServerButton() const noexcept { return m_chatServer; }
    [[nodiscard]] QSpinBox* chatCapacity() const noexcept { return m_chatCapacity; }
    [[nodiscard]] QComboBox* chatBacklog() const noexcept { return m_chatBacklog; }
    [[nodiscard]] QSpinBox* chatPosters() const noexcept { return m_chatPosters; }
    [[nodiscard]] QSpinBox* chatPostRate() const noexcept { return m_chatRate; }
    [[nodiscard]] QSpinBox* chatFastReaders() const noexcept { return m_chatFast; }
    [[nodiscard]] QSpinBox* chatSlowReaders() const noexcept { return m_chatSlow; }
    [[nodiscard]] QSpinBox* chatSlowRate() const noexcept { return m_chatSlowRate; }
    [[nodiscard]] QSpinBox* chatSeconds() const noexcept { return m_chatSeconds; }
    [[nodiscard]] QSpinBox* chatMessageBytes() const noexcept { return m_chatBytes; }
    [[nodiscard]] QPushButton* chatFireButton() const noexcept { return m_chatFire; }
    [[nodiscard]] QLabel* chatResult() const noexcept { return m_chatResult; }
    /// The chat load the fire button sends now.
    [[nodiscard]] ChatLoad currentChatLoad() const;

public slots:
    void fire();
    /// Starts the chat server with the panel's capacity and backlog, or stops it.
    void toggleChatServer();
    void fireChat();

private:
    void restartRuntime();
    void onStarted(quint16 port);
    void onLoadFinished(const QString& summary);
    void onChatChanged(quint16 port);
    void updateRouteControls();

    LiveSession* m_session;
    QSpinBox* m_workers;
    QCheckBox* m_stealing;
    QCheckBox* m_lifo;
    QComboBox* m_sleepMode;
    QComboBox* m_acceptMode;
    QLabel* m_address;
    QComboBox* m_route;
    QSpinBox* m_routeMs;
    QSpinBox* m_count;
    QSpinBox* m_concurrency;
    QComboBox* m_protocol;
    QSpinBox* m_streams;
    QPushButton* m_fire;
    QLabel* m_lastResult;
    QPushButton* m_chatServer;
    QSpinBox* m_chatCapacity;
    QComboBox* m_chatBacklog;
    QLabel* m_chatAddress;
    QSpinBox* m_chatPosters;
    QSpinBox* m_chatRate;
    QSpinBox* m_chatFast;
    QSpinBox* m_chatSlow;
    QSpinBox* m_chatSlowRate;
    QSpinBox* m_chatSeconds;
    QSpinBox* m_chatBytes;
    QPushButton* m_chatFire;
    QLabel* m_chatResult;
    QLabel* m_note;
    std::vector<QWidget*> m_liveOnly; ///< what setLive(false) disables
    bool m_applying = false;
    bool m_live = true;
};

} // namespace taskscope::ui
