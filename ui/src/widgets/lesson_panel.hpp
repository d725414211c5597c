#pragma once
// The lesson picker and the explanation beside the timeline: choose a lesson, read what
// to predict, press Run; each phase's result appears as it ends, then Replay plays the
// run back step by step.

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QPushButton;
class QTextBrowser;

namespace taskscope::ui {

class LessonPanel : public QWidget {
    Q_OBJECT
public:
    explicit LessonPanel(QWidget* parent = nullptr);

    /// The lesson chosen in the picker ("three-sleeps").
    [[nodiscard]] QString currentLesson() const;
    void setCurrentLesson(const QString& name);
    [[nodiscard]] double scale() const;
    void setScale(double scale);
    /// The explanation as shown (Markdown source).
    [[nodiscard]] QString explanation() const;
    /// The line under the picker: what the lesson shows and how long it takes at this scale.
    [[nodiscard]] QString summary() const;
    /// The phase lines shown so far for the current run.
    [[nodiscard]] QStringList phaseLines() const;

public slots:
    /// The session's side: a run started / a phase started / ended / the run finished.
    void lessonStarted();
    void phaseStarted(const QString& phase);
    void phaseFinished(const QString& line);
    void lessonFinished(bool stopped, const QString& error, bool replayable);

signals:
    void runRequested(const QString& name, double scale);
    void stopRequested();
    void replayRequested();

private:
    void showLesson();
    void matchCodeSize();

protected:
    void changeEvent(QEvent* event) override;

private:
    QComboBox* m_picker;
    QLabel* m_summary;
    QDoubleSpinBox* m_scale;
    QPushButton* m_run;
    QPushButton* m_replay;
    QListWidget* m_phases;
    QTextBrowser* m_text;
    bool m_running = false;
};

} // namespace taskscope::ui
