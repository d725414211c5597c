#pragma once
// The replay controls under the timeline: rewind, play/pause, speed, step to the next
// poll / wake / steal, a position slider, and what the last step landed on.

#include <QWidget>

class QComboBox;
class QLabel;
class QSlider;
class QToolButton;

namespace taskscope::ui {

class ReplayController;
class TraceDocument;

class ReplayBar : public QWidget {
    Q_OBJECT
public:
    ReplayBar(ReplayController* replay, TraceDocument* document, QWidget* parent = nullptr);

    /// The speeds offered, in the combo box's order.
    static const std::vector<double>& speeds();

private:
    void refresh();

    ReplayController* m_replay;
    TraceDocument* m_document;
    QToolButton* m_play;
    QComboBox* m_speed;
    QSlider* m_position;
    QLabel* m_time;
    QLabel* m_step;
    bool m_updating = false;
};

} // namespace taskscope::ui
