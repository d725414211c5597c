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

    [[nodiscard]] QToolButton* playButton() const noexcept { return m_play; }
    [[nodiscard]] QSlider* slider() const noexcept { return m_position; }
    [[nodiscard]] QLabel* timeLabel() const noexcept { return m_time; }
    /// What the last step landed on, elided to the room it has (the whole in its tooltip).
    [[nodiscard]] QLabel* stepLabel() const noexcept { return m_step; }

protected:
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void refresh();
    void showStep();
    void fitWidths();

    ReplayController* m_replay;
    TraceDocument* m_document;
    QToolButton* m_play;
    QComboBox* m_speed;
    QSlider* m_position;
    QLabel* m_time;
    QLabel* m_step;
    QString m_stepText;
    bool m_updating = false;
};

} // namespace taskscope::ui
