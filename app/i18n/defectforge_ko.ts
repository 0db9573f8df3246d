<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR">
<context>
    <name>AboutDialog</name>
    <message>
        <location filename="../dialogs.py" line="134"/>
        <source>About DefectForge</source>
        <translation>DefectForge 정보</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="143"/>
        <source>Paint a defect mask on a clean metal surface, pick a class and watch a realistic defect appear (VQGAN + Halton-MaskGIT).</source>
        <translation>깨끗한 금속 표면에 결함 마스크를 칠하고 클래스를 고르면 사실적인 결함이 생성되는 과정을 볼 수 있습니다 (VQGAN + Halton-MaskGIT).</translation>
    </message>
</context>
<context>
    <name>Actions</name>
    <message>
        <location filename="../actions.py" line="62"/>
        <source>Brush</source>
        <translation>브러시</translation>
    </message>
    <message>
        <location filename="../actions.py" line="63"/>
        <source>Eraser</source>
        <translation>지우개</translation>
    </message>
    <message>
        <location filename="../actions.py" line="64"/>
        <source>Rectangle</source>
        <translation>사각형</translation>
    </message>
    <message>
        <location filename="../actions.py" line="65"/>
        <source>Ellipse</source>
        <translation>타원</translation>
    </message>
    <message>
        <location filename="../actions.py" line="66"/>
        <source>Polygon</source>
        <translation>다각형</translation>
    </message>
    <message>
        <location filename="../actions.py" line="67"/>
        <source>Lasso</source>
        <translation>올가미</translation>
    </message>
    <message>
        <location filename="../actions.py" line="68"/>
        <source>Bucket fill</source>
        <translation>채우기</translation>
    </message>
    <message>
        <location filename="../actions.py" line="71"/>
        <source>Paint the mask in the current class; right-drag erases</source>
        <translation>현재 클래스로 마스크를 칠합니다. 오른쪽 드래그는 지웁니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="72"/>
        <source>Erase the mask</source>
        <translation>마스크를 지웁니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="73"/>
        <source>Drag a rectangle (Shift: square); right-drag subtracts</source>
        <translation>드래그하여 사각형을 그립니다 (Shift: 정사각형). 오른쪽 드래그는 빼기</translation>
    </message>
    <message>
        <location filename="../actions.py" line="74"/>
        <source>Drag an ellipse (Shift: circle); right-drag subtracts</source>
        <translation>드래그하여 타원을 그립니다 (Shift: 원). 오른쪽 드래그는 빼기</translation>
    </message>
    <message>
        <location filename="../actions.py" line="75"/>
        <source>Click corners; double-click or Enter closes</source>
        <translation>꼭짓점을 클릭하고, 더블클릭이나 Enter로 닫습니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="76"/>
        <source>Draw a freehand outline; release fills it</source>
        <translation>자유롭게 윤곽을 그리고, 버튼을 놓으면 채워집니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="77"/>
        <source>Fill the enclosed region under the cursor</source>
        <translation>커서 아래의 닫힌 영역을 채웁니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="87"/>
        <source>Class %1</source>
        <translation>클래스 %1</translation>
    </message>
    <message>
        <location filename="../actions.py" line="96"/>
        <source>&amp;Open image…</source>
        <translation>이미지 열기(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../actions.py" line="99"/>
        <source>Open a clean surface image</source>
        <translation>결함 없는 표면 이미지를 엽니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="103"/>
        <source>Open &amp;folder…</source>
        <translation>폴더 열기(&amp;F)…</translation>
    </message>
    <message>
        <location filename="../actions.py" line="106"/>
        <source>Open a folder of clean images and step through them</source>
        <translation>깨끗한 이미지 폴더를 열어 한 장씩 넘겨 봅니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="108"/>
        <source>&amp;Previous image</source>
        <translation>이전 이미지(&amp;P)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="109"/>
        <source>&amp;Next image</source>
        <translation>다음 이미지(&amp;N)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="112"/>
        <source>&amp;Import mask…</source>
        <translation>마스크 가져오기(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../actions.py" line="115"/>
        <source>Add a black/white mask image in the current class</source>
        <translation>흑백 마스크 이미지를 현재 클래스로 추가합니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="119"/>
        <source>Choose &amp;dataset folder…</source>
        <translation>데이터셋 폴더 선택(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../actions.py" line="122"/>
        <source>Where exported samples are written</source>
        <translation>내보낸 샘플이 저장되는 곳</translation>
    </message>
    <message>
        <location filename="../actions.py" line="126"/>
        <source>&amp;Export accepted variant</source>
        <translation>채택한 결과 내보내기(&amp;E)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="129"/>
        <source>Write the accepted variant, its masks and labels to the dataset folder</source>
        <translation>채택한 결과와 마스크, 라벨을 데이터셋 폴더에 씁니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="131"/>
        <source>&amp;Quit</source>
        <translation>종료(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="132"/>
        <source>&amp;Undo</source>
        <translation>실행 취소(&amp;U)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="133"/>
        <source>&amp;Redo</source>
        <translation>다시 실행(&amp;R)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="136"/>
        <source>&amp;Grow mask</source>
        <translation>마스크 확장(&amp;G)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="139"/>
        <source>Grow the current class by 3 px</source>
        <translation>현재 클래스를 3 px 넓힙니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="143"/>
        <source>&amp;Shrink mask</source>
        <translation>마스크 축소(&amp;S)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="146"/>
        <source>Shrink the current class by 3 px</source>
        <translation>현재 클래스를 3 px 좁힙니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="150"/>
        <source>&amp;Invert mask</source>
        <translation>마스크 반전(&amp;I)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="153"/>
        <source>Swap painted and unpainted pixels of the current class</source>
        <translation>현재 클래스의 칠한 픽셀과 칠하지 않은 픽셀을 뒤바꿉니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="157"/>
        <source>&amp;Clear class</source>
        <translation>클래스 지우기(&amp;C)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="160"/>
        <source>Remove the current class&apos;s mask</source>
        <translation>현재 클래스의 마스크를 지웁니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="162"/>
        <source>Clear &amp;all masks</source>
        <translation>모든 마스크 지우기(&amp;A)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="163"/>
        <source>Bigger brush</source>
        <translation>브러시 크게</translation>
    </message>
    <message>
        <location filename="../actions.py" line="164"/>
        <source>Smaller brush</source>
        <translation>브러시 작게</translation>
    </message>
    <message>
        <location filename="../actions.py" line="165"/>
        <source>&amp;Fit to window</source>
        <translation>창에 맞추기(&amp;F)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="166"/>
        <source>&amp;Actual size (100 %)</source>
        <translation>실제 크기(&amp;A) (100 %)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="167"/>
        <source>Zoom &amp;in</source>
        <translation>확대(&amp;I)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="168"/>
        <source>Zoom &amp;out</source>
        <translation>축소(&amp;O)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="170"/>
        <source>Show &amp;mask</source>
        <translation>마스크 표시(&amp;M)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="170"/>
        <source>Show or hide the mask overlay</source>
        <translation>마스크 오버레이를 보이거나 숨깁니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="174"/>
        <location filename="../actions.py" line="306"/>
        <source>&amp;Generate</source>
        <translation>생성(&amp;G)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="177"/>
        <source>Inpaint a defect of each painted class</source>
        <translation>칠한 클래스마다 결함을 인페인팅합니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="181"/>
        <source>&amp;Cancel</source>
        <translation>취소(&amp;C)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="184"/>
        <source>Stop the run after the current step</source>
        <translation>현재 단계가 끝나면 실행을 멈춥니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="188"/>
        <source>&amp;Regenerate</source>
        <translation>다시 생성(&amp;R)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="191"/>
        <source>Same mask and settings, new random seed</source>
        <translation>같은 마스크와 설정, 새 무작위 시드</translation>
    </message>
    <message>
        <location filename="../actions.py" line="195"/>
        <source>Re-run &amp;exactly</source>
        <translation>똑같이 재실행(&amp;E)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="198"/>
        <source>Run the last request again with the same seed</source>
        <translation>마지막 요청을 같은 시드로 다시 실행합니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="202"/>
        <source>&amp;Accept variant</source>
        <translation>결과 채택(&amp;A)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="205"/>
        <source>Accept the selected variant for export</source>
        <translation>선택한 결과를 내보내기용으로 채택합니다</translation>
    </message>
    <message>
        <location filename="../actions.py" line="207"/>
        <source>&amp;Keyboard shortcuts</source>
        <translation>단축키(&amp;K)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="208"/>
        <source>&amp;About DefectForge</source>
        <translation>DefectForge 정보(&amp;A)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="212"/>
        <source>Export</source>
        <translation>내보내기</translation>
    </message>
    <message>
        <location filename="../actions.py" line="213"/>
        <source>Generate</source>
        <translation>생성</translation>
    </message>
    <message>
        <location filename="../actions.py" line="222"/>
        <source>Main</source>
        <translation>기본</translation>
    </message>
    <message>
        <location filename="../actions.py" line="240"/>
        <source>Opacity</source>
        <translation>불투명도</translation>
    </message>
    <message>
        <location filename="../actions.py" line="244"/>
        <source>Mask overlay opacity</source>
        <translation>마스크 오버레이 불투명도</translation>
    </message>
    <message>
        <location filename="../actions.py" line="254"/>
        <source>Tools</source>
        <translation>도구</translation>
    </message>
    <message>
        <location filename="../actions.py" line="261"/>
        <source>Brush size in image pixels ([ and ])</source>
        <translation>브러시 크기, 이미지 픽셀 단위 ([ 와 ])</translation>
    </message>
    <message>
        <location filename="../actions.py" line="272"/>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="274"/>
        <source>Open &amp;recent</source>
        <translation>최근 파일(&amp;R)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="281"/>
        <source>&amp;Edit</source>
        <translation>편집(&amp;E)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="285"/>
        <source>&amp;Tools</source>
        <translation>도구(&amp;T)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="289"/>
        <source>Class</source>
        <translation>클래스</translation>
    </message>
    <message>
        <location filename="../actions.py" line="291"/>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <location filename="../actions.py" line="299"/>
        <source>Language</source>
        <translation>언어</translation>
    </message>
    <message>
        <location filename="../actions.py" line="300"/>
        <source>System</source>
        <translation>시스템 설정</translation>
    </message>
    <message>
        <location filename="../actions.py" line="308"/>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
</context>
<context>
    <name>Canvas</name>
    <message>
        <location filename="../canvas.py" line="292"/>
        <source>Original</source>
        <translation>원본</translation>
    </message>
    <message>
        <location filename="../canvas.py" line="328"/>
        <source>Before</source>
        <translation>이전</translation>
    </message>
    <message>
        <location filename="../canvas.py" line="328"/>
        <source>After</source>
        <translation>이후</translation>
    </message>
    <message>
        <location filename="../canvas.py" line="339"/>
        <source>Mask hidden — M shows it</source>
        <translation>마스크 숨김 — M으로 표시</translation>
    </message>
</context>
<context>
    <name>ClassPanel</name>
    <message>
        <location filename="../panels.py" line="74"/>
        <source>Class</source>
        <translation>클래스</translation>
    </message>
    <message>
        <location filename="../panels.py" line="74"/>
        <source>Painted</source>
        <translation>칠한 픽셀</translation>
    </message>
    <message>
        <location filename="../panels.py" line="74"/>
        <source>Exported</source>
        <translation>내보냄</translation>
    </message>
    <message>
        <location filename="../panels.py" line="82"/>
        <source>The class you paint with. Keys 1-9 pick a class; each class has its colour.</source>
        <translation>칠할 때 쓰는 클래스입니다. 1-9 키로 고르며, 클래스마다 색이 있습니다.</translation>
    </message>
    <message>
        <location filename="../panels.py" line="128"/>
        <source>Clean-up: paint over an existing defect to make the surface clean again</source>
        <translation>결함 지우기: 기존 결함 위에 칠하면 표면을 다시 깨끗하게 만듭니다</translation>
    </message>
    <message>
        <location filename="../panels.py" line="126"/>
        <source>Painted, but the loaded model has no class of this name</source>
        <translation>칠해져 있지만 불러온 모델에는 이 이름의 클래스가 없습니다</translation>
    </message>
    <message>
        <location filename="../panels.py" line="133"/>
        <source>Load a model to see its defect classes.</source>
        <translation>모델을 불러오면 결함 클래스가 표시됩니다.</translation>
    </message>
</context>
<context>
    <name>CurvePlot</name>
    <message>
        <location filename="../model_card.py" line="47"/>
        <source>%1 %2 (one evaluation)</source>
        <translation>%1 %2 (평가 1회)</translation>
    </message>
</context>
<context>
    <name>DatasetFolderDialog</name>
    <message>
        <location filename="../dataset_folder.py" line="49"/>
        <source>Choose the dataset folder</source>
        <translation>데이터셋 폴더 선택</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="55"/>
        <source>Exports go to this folder: images/, masks/, labels and a manifest. Type a new folder to have it made, or pick one.</source>
        <translation>내보내기는 이 폴더에 images/, masks/, 라벨과 매니페스트를 씁니다. 새 폴더 경로를 입력하면 만들어지고, 기존 폴더를 고를 수도 있습니다.</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="62"/>
        <source>Browse…</source>
        <translation>찾아보기…</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="79"/>
        <source>Pascal VOC boxes (annotations/&lt;id&gt;.xml)</source>
        <translation>Pascal VOC 박스 (annotations/&lt;id&gt;.xml)</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="80"/>
        <source>YOLO boxes (labels/&lt;id&gt;.txt)</source>
        <translation>YOLO 박스 (labels/&lt;id&gt;.txt)</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="81"/>
        <source>YOLO segmentation polygons and data.yaml for Ultralytics</source>
        <translation>YOLO 분할 폴리곤과 Ultralytics용 data.yaml</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="82"/>
        <source>COCO instances with RLE masks (annotations/instances.json)</source>
        <translation>RLE 마스크가 있는 COCO 인스턴스 (annotations/instances.json)</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="84"/>
        <source>Label files (images and masks are always written)</source>
        <translation>레이블 파일 (이미지와 마스크는 항상 저장됩니다)</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="94"/>
        <source>Share of images listed in val.txt (and instances_val.json); 0 = no split, val is train</source>
        <translation>val.txt(및 instances_val.json)에 들어갈 이미지 비율. 0 = 분할 없음, val은 train과 같음</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="98"/>
        <source>The same seed gives the same split; an image keeps its side as the folder grows</source>
        <translation>같은 시드는 같은 분할을 만듭니다. 폴더가 커져도 이미지는 자기 쪽에 남습니다</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="100"/>
        <source>Validation share:</source>
        <translation>검증 비율:</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="101"/>
        <source>Split seed:</source>
        <translation>분할 시드:</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="120"/>
        <source>Tick at least one kind of label file.</source>
        <translation>레이블 파일을 하나 이상 선택하세요.</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="132"/>
        <source>Type the full path of a folder.</source>
        <translation>폴더의 전체 경로를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="135"/>
        <source>%1 is a file, not a folder.</source>
        <translation>%1은(는) 폴더가 아니라 파일입니다.</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="141"/>
        <source>%1 already holds %2 other file(s) or folder(s) (%3). DefectForge would add its images/, masks/, labels and manifest beside them. Use this folder anyway?</source>
        <translation>%1에는 이미 다른 파일 또는 폴더 %2개(%3)가 있습니다. DefectForge가 그 옆에 images/, masks/, 라벨과 매니페스트를 추가합니다. 그래도 이 폴더를 사용할까요?</translation>
    </message>
    <message>
        <location filename="../dataset_folder.py" line="154"/>
        <source>Cannot make %1: %2</source>
        <translation>%1을(를) 만들 수 없습니다: %2</translation>
    </message>
</context>
<context>
    <name>DefectClass</name>
    <message>
        <location filename="../class_names.py" line="13"/>
        <source>crazing</source>
        <translation>크레이징</translation>
    </message>
    <message>
        <location filename="../class_names.py" line="14"/>
        <source>inclusion</source>
        <translation>개재물</translation>
    </message>
    <message>
        <location filename="../class_names.py" line="15"/>
        <source>patches</source>
        <translation>패치</translation>
    </message>
    <message>
        <location filename="../class_names.py" line="16"/>
        <source>pitted_surface</source>
        <translation>피팅</translation>
    </message>
    <message>
        <location filename="../class_names.py" line="17"/>
        <source>rolled-in_scale</source>
        <translation>압연 스케일</translation>
    </message>
    <message>
        <location filename="../class_names.py" line="18"/>
        <source>scratches</source>
        <translation>스크래치</translation>
    </message>
    <message>
        <location filename="../class_names.py" line="19"/>
        <source>Clean-up</source>
        <translation>결함 지우기</translation>
    </message>
</context>
<context>
    <name>Edit</name>
    <message>
        <location filename="../undo.py" line="13"/>
        <source>Brush stroke</source>
        <translation>브러시 획</translation>
    </message>
    <message>
        <location filename="../undo.py" line="14"/>
        <source>Eraser stroke</source>
        <translation>지우개 획</translation>
    </message>
    <message>
        <location filename="../undo.py" line="15"/>
        <source>Rectangle</source>
        <translation>사각형</translation>
    </message>
    <message>
        <location filename="../undo.py" line="16"/>
        <source>Ellipse</source>
        <translation>타원</translation>
    </message>
    <message>
        <location filename="../undo.py" line="17"/>
        <source>Polygon</source>
        <translation>다각형</translation>
    </message>
    <message>
        <location filename="../undo.py" line="18"/>
        <source>Lasso</source>
        <translation>올가미</translation>
    </message>
    <message>
        <location filename="../undo.py" line="19"/>
        <source>Bucket fill</source>
        <translation>채우기</translation>
    </message>
    <message>
        <location filename="../undo.py" line="20"/>
        <source>Grow mask</source>
        <translation>마스크 확장</translation>
    </message>
    <message>
        <location filename="../undo.py" line="21"/>
        <source>Shrink mask</source>
        <translation>마스크 축소</translation>
    </message>
    <message>
        <location filename="../undo.py" line="22"/>
        <source>Invert mask</source>
        <translation>마스크 반전</translation>
    </message>
    <message>
        <location filename="../undo.py" line="23"/>
        <source>Clear class</source>
        <translation>클래스 지우기</translation>
    </message>
    <message>
        <location filename="../undo.py" line="24"/>
        <source>Clear all masks</source>
        <translation>모든 마스크 지우기</translation>
    </message>
    <message>
        <location filename="../undo.py" line="25"/>
        <source>Import mask</source>
        <translation>마스크 가져오기</translation>
    </message>
    <message>
        <location filename="../undo.py" line="26"/>
        <source>Mask carried over</source>
        <translation>이어받은 마스크</translation>
    </message>
</context>
<context>
    <name>FilesPanel</name>
    <message>
        <location filename="../panels.py" line="388"/>
        <source>No folder opened</source>
        <translation>열린 폴더 없음</translation>
    </message>
    <message>
        <location filename="../panels.py" line="404"/>
        <source>%1 — %2 images</source>
        <translation>%1 — 이미지 %2장</translation>
    </message>
    <message>
        <location filename="../panels.py" line="428"/>
        <source>Exported: the dataset holds samples of it</source>
        <translation>내보냄: 데이터셋에 이 이미지의 샘플이 있습니다</translation>
    </message>
</context>
<context>
    <name>Gallery</name>
    <message>
        <location filename="../gallery.py" line="109"/>
        <source>Variants appear here after Generate.</source>
        <translation>생성하면 여기에 결과가 나타납니다.</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="113"/>
        <source>Accept</source>
        <translation>채택</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="114"/>
        <source>Accept the selected variant for export (Enter in the gallery)</source>
        <translation>선택한 결과를 내보내기용으로 채택합니다 (갤러리에서 Enter)</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="116"/>
        <source>Export</source>
        <translation>내보내기</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="117"/>
        <source>Write the accepted variant to the dataset folder (Ctrl+E)</source>
        <translation>채택한 결과를 데이터셋 폴더에 씁니다 (Ctrl+E)</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="119"/>
        <source>Regenerate</source>
        <translation>다시 생성</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="120"/>
        <source>Same mask and settings, new random seed (Ctrl+Shift+G)</source>
        <translation>같은 마스크와 설정, 새 무작위 시드 (Ctrl+Shift+G)</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="122"/>
        <source>Re-run exactly</source>
        <translation>똑같이 재실행</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="123"/>
        <source>Run the very same request again: same seed, same pixels</source>
        <translation>완전히 같은 요청을 다시 실행합니다: 같은 시드, 같은 픽셀</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="134"/>
        <source>Split view: original on the left, result on the right. Hold C for the whole original.</source>
        <translation>분할 보기: 왼쪽은 원본, 오른쪽은 결과. C를 누르고 있으면 원본 전체를 봅니다.</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="138"/>
        <source>Compare</source>
        <translation>비교</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="194"/>
        <source>Exported as %1</source>
        <translation>%1(으)로 내보냄</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="205"/>
        <source>Best first, by spill and seam only: the model has no classifier to judge class fidelity and realism.</source>
        <translation>점수 높은 순 (번짐과 이음매만 반영): 모델에 클래스 충실도와 사실감을 판정할 분류기가 없습니다.</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="221"/>
        <source>class %1</source>
        <translation>클래스 %1</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="223"/>
        <source>real %1</source>
        <translation>사실감 %1</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="225"/>
        <source>grain %1</source>
        <translation>결 %1</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="227"/>
        <source>spill %1</source>
        <translation>번짐 %1</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="229"/>
        <source>seam %1</source>
        <translation>이음매 %1</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="234"/>
        <source>not measured</source>
        <translation>측정 안 됨</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="240"/>
        <source>Score %1 (higher is better)</source>
        <translation>점수 %1 (높을수록 좋음)</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="241"/>
        <source>Class fidelity: %1</source>
        <translation>클래스 충실도: %1</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="242"/>
        <source>Realism: %1 (about 1 is as close to real crops as they are to each other)</source>
        <translation>사실감: %1 (약 1이면 실제 결함끼리만큼 실제에 가까움)</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="244"/>
        <source>Grain: %1 (about 1 is as fine-grained as real defects of the class; near 0 is flat or blurred)</source>
        <translation>결: %1 (1 안팎이면 이 클래스의 실제 결함만큼 잔결이 살아 있음, 0에 가까우면 밋밋하거나 흐림)</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="246"/>
        <source>Spill: %1 of the changed pixels lie outside the label</source>
        <translation>번짐: 바뀐 픽셀 중 %1이(가) 라벨 밖에 있음</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="247"/>
        <source>Seam: %1 (about 1 is no seam)</source>
        <translation>이음매: %1 (약 1이면 이음매 없음)</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="250"/>
        <source>No classifier in the model: class fidelity and realism are not measured.</source>
        <translation>모델에 분류기가 없어 클래스 충실도와 사실감은 측정하지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../gallery.py" line="252"/>
        <source>Poor: %1</source>
        <translation>미흡: %1</translation>
    </message>
</context>
<context>
    <name>GenerationPresenter</name>
    <message>
        <location filename="../generation.py" line="108"/>
        <location filename="../generation.py" line="173"/>
        <location filename="../generation.py" line="176"/>
        <source>Cannot generate</source>
        <translation>생성할 수 없음</translation>
    </message>
    <message>
        <location filename="../generation.py" line="110"/>
        <source>Open an image first.</source>
        <translation>먼저 이미지를 여세요.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="113"/>
        <source>No model loaded — choose one in the Model panel.</source>
        <translation>불러온 모델이 없습니다 — 모델 패널에서 고르세요.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="117"/>
        <source>Paint a mask first: pick a class, then paint where the defect should appear.</source>
        <translation>먼저 마스크를 칠하세요: 클래스를 고른 뒤 결함이 생길 곳을 칠합니다.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="132"/>
        <location filename="../generation.py" line="150"/>
        <source>Replace variants?</source>
        <translation>변형을 바꿀까요?</translation>
    </message>
    <message>
        <location filename="../generation.py" line="133"/>
        <location filename="../generation.py" line="151"/>
        <source>%1 generated variant(s) are not exported yet; a new run replaces them. Generate anyway?</source>
        <translation>생성된 변형 %1개를 아직 내보내지 않았습니다. 새로 실행하면 이 변형들이 바뀝니다. 그래도 생성할까요?</translation>
    </message>
    <message>
        <location filename="../generation.py" line="169"/>
        <source>The model %1 has no class %2. Repaint those pixels in one of its classes.</source>
        <translation>모델 %1에는 %2 클래스가 없습니다. 해당 픽셀을 모델의 클래스 중 하나로 다시 칠하세요.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="192"/>
        <source>The mask is mostly specks: %1 of its %2 regions are under %3 px. The run needs %4 windows (%5 steps) and will change far more of the image than was painted.</source>
        <translation>마스크가 대부분 작은 점입니다: 영역 %2개 중 %1개가 %3픽셀 미만입니다. 실행에 창 %4개(%5단계)가 필요하며, 칠한 것보다 이미지가 훨씬 많이 바뀝니다.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="201"/>
        <source>Paint fewer, larger regions for a faster, cleaner result. Generate anyway?</source>
        <translation>더 적고 큰 영역을 칠하면 더 빠르고 깔끔한 결과를 얻습니다. 그래도 생성할까요?</translation>
    </message>
    <message>
        <location filename="../generation.py" line="203"/>
        <source>Mask is mostly specks</source>
        <translation>마스크가 대부분 작은 점임</translation>
    </message>
    <message>
        <location filename="../generation.py" line="204"/>
        <source>Not generated: the mask is mostly specks.</source>
        <translation>생성하지 않음: 마스크가 대부분 작은 점입니다.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="212"/>
        <location filename="../generation.py" line="213"/>
        <source>Cancelling after this step…</source>
        <translation>이번 단계가 끝나면 취소합니다…</translation>
    </message>
    <message>
        <location filename="../generation.py" line="236"/>
        <source>Preparing: encoding the image and warming the model up (the first run takes longest)…</source>
        <translation>준비 중: 이미지를 인코딩하고 모델을 예열하는 중 (첫 실행이 가장 오래 걸립니다)…</translation>
    </message>
    <message>
        <location filename="../generation.py" line="237"/>
        <source>Preparing: encoding the image…</source>
        <translation>준비 중: 이미지를 인코딩하는 중…</translation>
    </message>
    <message>
        <location filename="../generation.py" line="240"/>
        <source>Preparing: %1 window(s), %2 steps — encoding the image and warming the model up (the first run takes longest)…</source>
        <translation>준비 중: 창 %1개, %2단계 — 이미지를 인코딩하고 모델을 예열하는 중 (첫 실행이 가장 오래 걸립니다)…</translation>
    </message>
    <message>
        <location filename="../generation.py" line="244"/>
        <source>Preparing: %1 window(s), %2 steps — encoding the image…</source>
        <translation>준비 중: 창 %1개, %2단계 — 이미지를 인코딩하는 중…</translation>
    </message>
    <message>
        <location filename="../generation.py" line="258"/>
        <source>mask %1 of %2</source>
        <translation>마스크 %1/%2</translation>
    </message>
    <message>
        <location filename="../generation.py" line="262"/>
        <source>Generating: step %1 of %2</source>
        <translation>생성 중: %2단계 중 %1단계</translation>
    </message>
    <message>
        <location filename="../generation.py" line="273"/>
        <source>Done in %1 s</source>
        <translation>%1초 만에 완료</translation>
    </message>
    <message>
        <location filename="../generation.py" line="275"/>
        <source>%1 variant(s) in %2 s, seed %3 — pick one, Accept, then Export</source>
        <translation>결과 %1개, %2초, 시드 %3 — 하나를 골라 채택한 뒤 내보내세요</translation>
    </message>
    <message>
        <location filename="../generation.py" line="285"/>
        <source>Failed</source>
        <translation>실패</translation>
    </message>
    <message>
        <location filename="../generation.py" line="286"/>
        <location filename="../generation.py" line="300"/>
        <source>Generation failed</source>
        <translation>생성 실패</translation>
    </message>
    <message>
        <location filename="../generation.py" line="294"/>
        <source>Device problem</source>
        <translation>장치 문제</translation>
    </message>
    <message>
        <location filename="../generation.py" line="295"/>
        <source>Switch to the CPU and reload the model?</source>
        <translation>CPU로 바꾸고 모델을 다시 불러올까요?</translation>
    </message>
    <message>
        <location filename="../generation.py" line="305"/>
        <source>Cancelled</source>
        <translation>취소됨</translation>
    </message>
    <message>
        <location filename="../generation.py" line="306"/>
        <source>Cancelled — the mask is unchanged.</source>
        <translation>취소됨 — 마스크는 그대로입니다.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="323"/>
        <source>Ready</source>
        <translation>준비됨</translation>
    </message>
    <message>
        <location filename="../generation.py" line="360"/>
        <source>Mask edited — the variants stay in the gallery: click one to see it, Accept it again to export it.</source>
        <translation>마스크가 수정되었습니다 — 변형은 갤러리에 남아 있습니다. 클릭해서 보고, 내보내려면 다시 승인하세요.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="381"/>
        <source>#%1 · seed %2</source>
        <translation>#%1 · 시드 %2</translation>
    </message>
    <message>
        <location filename="../generation.py" line="414"/>
        <source>Variant %1 accepted — Export (Ctrl+E) writes it to the dataset.</source>
        <translation>결과 %1 채택 — 내보내기(Ctrl+E)로 데이터셋에 저장합니다.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="444"/>
        <source>Nothing to export yet: Generate, pick a variant and Accept it, then Export.</source>
        <translation>아직 내보낼 것이 없습니다: 생성한 뒤 변형을 골라 승인하고 내보내세요.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="448"/>
        <source>Accept a variant first, then Export.</source>
        <translation>먼저 변형을 승인한 다음 내보내세요.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="468"/>
        <source>Variant %1 is already in the dataset as %2 — nothing written.</source>
        <translation>변형 %1은(는) 이미 데이터셋에 %2(으)로 있습니다 — 아무것도 쓰지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="454"/>
        <source>Still writing variant %1 to the dataset…</source>
        <translation>변형 %1을(를) 아직 데이터셋에 쓰는 중…</translation>
    </message>
    <message>
        <location filename="../generation.py" line="461"/>
        <source>Exporting to %1…</source>
        <translation>%1(으)로 내보내는 중…</translation>
    </message>
    <message>
        <location filename="../generation.py" line="497"/>
        <source>Exported %1 to %2</source>
        <translation>%1을(를) %2에 내보냈습니다</translation>
    </message>
    <message>
        <location filename="../generation.py" line="504"/>
        <source>Exported, but the dataset&apos;s split lists, COCO file and data.yaml were not rebuilt (the next export or `defectforge dataset build` does it): %1</source>
        <translation>내보냈지만 데이터셋의 분할 목록, COCO 파일, data.yaml은 다시 만들지 못했습니다(다음 내보내기나 `defectforge dataset build`가 만듭니다): %1</translation>
    </message>
    <message>
        <location filename="../generation.py" line="523"/>
        <source>Export failed — the result is still here; fix the folder and export again.</source>
        <translation>내보내기 실패 — 결과는 그대로 있습니다. 폴더를 고친 뒤 다시 내보내세요.</translation>
    </message>
    <message>
        <location filename="../generation.py" line="526"/>
        <source>Export failed</source>
        <translation>내보내기 실패</translation>
    </message>
    <message>
        <location filename="../generation.py" line="528"/>
        <source>Nothing was lost: the result stays in the gallery. Choose another dataset folder (File menu) or free some space, then export again.</source>
        <translation>잃은 것은 없습니다: 결과는 갤러리에 남아 있습니다. 다른 데이터셋 폴더를 고르거나(파일 메뉴) 저장 공간을 확보한 뒤 다시 내보내세요.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../main_window.py" line="79"/>
        <source>Open a clean surface image (Ctrl+O) or drop one here.</source>
        <translation>결함 없는 표면 이미지를 여세요 (Ctrl+O). 여기에 끌어다 놓아도 됩니다.</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="140"/>
        <source>Defect classes</source>
        <translation>결함 클래스</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="141"/>
        <source>Generate</source>
        <translation>생성</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="142"/>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="143"/>
        <source>Variants</source>
        <translation>결과</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="144"/>
        <source>Files</source>
        <translation>파일</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="161"/>
        <source>Memory held by the undo history</source>
        <translation>실행 취소 기록이 쓰는 메모리</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="289"/>
        <source>Erasing the mask (every class)</source>
        <translation>마스크 지우는 중 (모든 클래스)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="292"/>
        <source>Clean-up: paint over a defect to erase it from the image</source>
        <translation>정리: 결함 위를 칠하면 이미지에서 지워집니다</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="293"/>
        <source>Painting: %1</source>
        <translation>칠하는 클래스: %1</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="324"/>
        <source>Undo: %1 MB</source>
        <translation>실행 취소: %1 MB</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="443"/>
        <location filename="../main_window.py" line="444"/>
        <source>none</source>
        <translation>없음</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="466"/>
        <source>Language: %1</source>
        <translation>언어: %1</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="495"/>
        <source>Settings could not be saved: %1</source>
        <translation>설정을 저장하지 못했습니다: %1</translation>
    </message>
</context>
<context>
    <name>ModelCardView</name>
    <message>
        <location filename="../model_card.py" line="158"/>
        <source>%1: training loss</source>
        <translation>%1: 학습 손실</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="159"/>
        <source>%1: held-out</source>
        <translation>%1: 검증(보류) 데이터</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="168"/>
        <source>not recorded</source>
        <translation>기록 없음</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="175"/>
        <source>Draws these classes poorly (most of its defects are not recognised as the class): %1</source>
        <translation>이 클래스들은 잘 그리지 못합니다 (생성한 결함 대부분이 해당 클래스로 인식되지 않음): %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="180"/>
        <source>Classes: %1</source>
        <translation>클래스: %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="181"/>
        <source>Trained on: %1</source>
        <translation>학습 데이터: %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="182"/>
        <source>Data credit: %1</source>
        <translation>데이터 출처: %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="184"/>
        <source>Training steps: %1</source>
        <translation>학습 단계: %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="190"/>
        <source>Class fidelity</source>
        <translation>클래스 충실도</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="191"/>
        <source>Tokenizer SSIM</source>
        <translation>토크나이저 SSIM</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="192"/>
        <source>Seam ratio (1 = invisible)</source>
        <translation>경계 비율 (1 = 보이지 않음)</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="193"/>
        <source>Variant diversity</source>
        <translation>변형 다양성</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="194"/>
        <source>Seconds per inpaint</source>
        <translation>인페인팅 1회당 초</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="201"/>
        <source>Measured (eval report):</source>
        <translation>측정값 (평가 보고서):</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="203"/>
        <source>Measured figures: %1</source>
        <translation>측정값: %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="212"/>
        <source>Recognised as their class, per class:</source>
        <translation>클래스별로 해당 클래스로 인식된 비율:</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="215"/>
        <source>Per-class figures: %1</source>
        <translation>클래스별 수치: %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="216"/>
        <source>Fingerprint: %1</source>
        <translation>지문: %1</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="219"/>
        <source>Training curves:</source>
        <translation>학습 곡선:</translation>
    </message>
    <message>
        <location filename="../model_card.py" line="219"/>
        <source>Training curves: %1</source>
        <translation>학습 곡선: %1</translation>
    </message>
</context>
<context>
    <name>ModelDevicePresenter</name>
    <message>
        <location filename="../model_device.py" line="67"/>
        <source>Model folder not found: %1</source>
        <translation>모델 폴더를 찾을 수 없습니다: %1</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="69"/>
        <source>No model loaded — choose one in the Model panel.</source>
        <translation>불러온 모델이 없습니다 — 모델 패널에서 고르세요.</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="75"/>
        <source>Busy</source>
        <translation>작업 중</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="75"/>
        <source>Wait for the run to finish or cancel it first.</source>
        <translation>실행이 끝나기를 기다리거나 먼저 취소하세요.</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="84"/>
        <source>Choose a model bundle folder</source>
        <translation>모델 번들 폴더 선택</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="120"/>
        <source>%1 is not available here, so the model runs on %2. The device choice is back to %3.</source>
        <translation>%1을(를) 여기서 사용할 수 없어 모델이 %2에서 실행됩니다. 장치 선택이 %3(으)로 돌아갔습니다.</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="145"/>
        <source>No model loaded</source>
        <translation>불러온 모델 없음</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="151"/>
        <source>Loading model…</source>
        <translation>모델 불러오는 중…</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="153"/>
        <source>Loading model %1…</source>
        <translation>모델 %1 불러오는 중…</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="165"/>
        <source>Model %1 ready on %2</source>
        <translation>모델 %1 준비됨 (%2)</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="171"/>
        <source>No model</source>
        <translation>모델 없음</translation>
    </message>
    <message>
        <location filename="../model_device.py" line="173"/>
        <source>Cannot load model</source>
        <translation>모델을 불러올 수 없음</translation>
    </message>
</context>
<context>
    <name>ModelPanel</name>
    <message>
        <location filename="../panels.py" line="287"/>
        <source>Model bundles: the bundled ones and those in your model folder</source>
        <translation>모델 번들: 기본 제공 모델과 사용자 모델 폴더의 모델</translation>
    </message>
    <message>
        <location filename="../panels.py" line="291"/>
        <source>Use a model bundle folder…</source>
        <translation>모델 번들 폴더 사용…</translation>
    </message>
    <message>
        <location filename="../panels.py" line="295"/>
        <source>Auto</source>
        <translation>자동</translation>
    </message>
    <message>
        <location filename="../panels.py" line="296"/>
        <source>CUDA (NVIDIA GPU)</source>
        <translation>CUDA (NVIDIA GPU)</translation>
    </message>
    <message>
        <location filename="../panels.py" line="297"/>
        <source>Apple GPU (MPS)</source>
        <translation>Apple GPU (MPS)</translation>
    </message>
    <message>
        <location filename="../panels.py" line="298"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../panels.py" line="302"/>
        <source>Where the model runs. Auto picks a GPU when there is one.</source>
        <translation>모델을 실행할 장치입니다. 자동은 GPU가 있으면 GPU를 씁니다.</translation>
    </message>
    <message>
        <location filename="../panels.py" line="316"/>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <location filename="../panels.py" line="317"/>
        <source>Device</source>
        <translation>장치</translation>
    </message>
    <message>
        <location filename="../panels.py" line="331"/>
        <source>No model found</source>
        <translation>모델 없음</translation>
    </message>
    <message>
        <location filename="../panels.py" line="353"/>
        <source>&lt;b&gt;No model loaded&lt;/b&gt; — choose one above.</source>
        <translation>&lt;b&gt;불러온 모델 없음&lt;/b&gt; — 위에서 고르세요.</translation>
    </message>
    <message>
        <location filename="../panels.py" line="357"/>
        <source>Running on %1</source>
        <translation>실행 장치: %1</translation>
    </message>
    <message>
        <location filename="../panels.py" line="367"/>
        <source>Loading %1…</source>
        <translation>%1 불러오는 중…</translation>
    </message>
</context>
<context>
    <name>SamplerPanel</name>
    <message>
        <location filename="../panels.py" line="155"/>
        <source>Sampler steps for a full image; a small mask uses proportionally fewer</source>
        <translation>이미지 전체 기준 샘플러 단계 수. 작은 마스크는 비례해서 적게 씁니다</translation>
    </message>
    <message>
        <location filename="../panels.py" line="157"/>
        <source>Classifier-free guidance: higher follows the class more strongly</source>
        <translation>분류기 없는 가이던스: 높을수록 클래스를 더 강하게 따릅니다</translation>
    </message>
    <message>
        <location filename="../panels.py" line="160"/>
        <source>Temperature at the first step (logit multiplier)</source>
        <translation>첫 단계의 온도 (로짓 배율)</translation>
    </message>
    <message>
        <location filename="../panels.py" line="161"/>
        <source>Temperature at the last step</source>
        <translation>마지막 단계의 온도</translation>
    </message>
    <message>
        <location filename="../panels.py" line="163"/>
        <source>Same seed, same mask, same settings: same result</source>
        <translation>같은 시드, 같은 마스크, 같은 설정이면 같은 결과</translation>
    </message>
    <message>
        <location filename="../panels.py" line="164"/>
        <source>New random seed each run</source>
        <translation>실행마다 새 무작위 시드</translation>
    </message>
    <message>
        <location filename="../panels.py" line="168"/>
        <source>Live preview</source>
        <translation>실시간 미리보기</translation>
    </message>
    <message>
        <location filename="../panels.py" line="170"/>
        <source>Show each step on the canvas; off makes runs on a slow CPU faster</source>
        <translation>단계마다 캔버스에 보여 줍니다. 끄면 느린 CPU에서 더 빨리 끝납니다</translation>
    </message>
    <message>
        <location filename="../panels.py" line="172"/>
        <source>How many variants to generate (seed, seed+1, ...)</source>
        <translation>생성할 결과 수 (시드, 시드+1, ...)</translation>
    </message>
    <message>
        <location filename="../panels.py" line="175"/>
        <source>Back to the model&apos;s sampler defaults</source>
        <translation>모델의 기본 샘플러 설정으로 되돌리기</translation>
    </message>
    <message>
        <location filename="../panels.py" line="194"/>
        <source>Steps</source>
        <translation>단계</translation>
    </message>
    <message>
        <location filename="../panels.py" line="195"/>
        <source>Guidance (CFG)</source>
        <translation>가이던스 (CFG)</translation>
    </message>
    <message>
        <location filename="../panels.py" line="196"/>
        <source>Temperature</source>
        <translation>온도</translation>
    </message>
    <message>
        <location filename="../panels.py" line="197"/>
        <source>Seed</source>
        <translation>시드</translation>
    </message>
    <message>
        <location filename="../panels.py" line="199"/>
        <source>Last seed</source>
        <translation>마지막 시드</translation>
    </message>
    <message>
        <location filename="../panels.py" line="200"/>
        <source>Variants</source>
        <translation>결과</translation>
    </message>
    <message>
        <location filename="../panels.py" line="203"/>
        <source>Generate</source>
        <translation>생성</translation>
    </message>
    <message>
        <location filename="../panels.py" line="206"/>
        <source>Inpaint the painted masks (Ctrl+G)</source>
        <translation>칠한 마스크를 인페인팅합니다 (Ctrl+G)</translation>
    </message>
    <message>
        <location filename="../panels.py" line="208"/>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <location filename="../panels.py" line="211"/>
        <source>Stop after the current step (Esc)</source>
        <translation>현재 단계가 끝나면 멈춥니다 (Esc)</translation>
    </message>
    <message>
        <location filename="../panels.py" line="220"/>
        <source>Ready</source>
        <translation>준비됨</translation>
    </message>
    <message>
        <location filename="../panels.py" line="259"/>
        <source>Preparing: encoding the image, warming the model up…</source>
        <translation>준비 중: 이미지를 인코딩하고 모델을 예열하는 중…</translation>
    </message>
    <message>
        <location filename="../panels.py" line="264"/>
        <source>→ %1 for this mask</source>
        <translation>→ 이 마스크는 %1단계</translation>
    </message>
    <message>
        <location filename="../panels.py" line="269"/>
        <source>Step %1 of %2</source>
        <translation>%2단계 중 %1단계</translation>
    </message>
</context>
<context>
    <name>SessionPresenter</name>
    <message>
        <location filename="../session.py" line="69"/>
        <source>Images (%1)</source>
        <translation>이미지 (%1)</translation>
    </message>
    <message>
        <location filename="../session.py" line="84"/>
        <source>Open image</source>
        <translation>이미지 열기</translation>
    </message>
    <message>
        <location filename="../session.py" line="92"/>
        <source>Open folder of images</source>
        <translation>이미지 폴더 열기</translation>
    </message>
    <message>
        <location filename="../session.py" line="102"/>
        <source>No images</source>
        <translation>이미지 없음</translation>
    </message>
    <message>
        <location filename="../session.py" line="103"/>
        <source>%1 holds no PNG, JPEG, BMP or TIFF images.</source>
        <translation>%1에는 PNG, JPEG, BMP, TIFF 이미지가 없습니다.</translation>
    </message>
    <message>
        <location filename="../session.py" line="120"/>
        <source>Cannot open image</source>
        <translation>이미지를 열 수 없음</translation>
    </message>
    <message>
        <location filename="../session.py" line="137"/>
        <source>Opened %1</source>
        <translation>%1 열림</translation>
    </message>
    <message>
        <location filename="../session.py" line="139"/>
        <source> — the mask came along (Undo removes it)</source>
        <translation> — 마스크를 이어받았습니다 (실행 취소로 제거)</translation>
    </message>
    <message>
        <location filename="../session.py" line="141"/>
        <source> — the mask stayed behind: %1</source>
        <translation> — 마스크를 가져오지 않았습니다: %1</translation>
    </message>
    <message>
        <location filename="../session.py" line="171"/>
        <source>(none)</source>
        <translation>(없음)</translation>
    </message>
    <message>
        <location filename="../session.py" line="185"/>
        <source>Import mask</source>
        <translation>마스크 가져오기</translation>
    </message>
    <message>
        <location filename="../session.py" line="196"/>
        <source>Cannot import mask</source>
        <translation>마스크를 가져올 수 없음</translation>
    </message>
    <message>
        <location filename="../session.py" line="206"/>
        <source>Discard variants?</source>
        <translation>변형을 버릴까요?</translation>
    </message>
    <message>
        <location filename="../session.py" line="207"/>
        <source>%1 generated variant(s) are not exported yet and will be lost. Discard them?</source>
        <translation>생성된 변형 %1개를 아직 내보내지 않아 사라집니다. 버릴까요?</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <location filename="../dialogs.py" line="51"/>
        <source>1 … 9</source>
        <translation>1 … 9</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="51"/>
        <source>Pick defect class 1 to 9</source>
        <translation>결함 클래스 1~9 선택</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="52"/>
        <source>Space + drag</source>
        <translation>Space + 드래그</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="52"/>
        <location filename="../dialogs.py" line="53"/>
        <source>Pan</source>
        <translation>화면 이동</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="53"/>
        <source>Middle-drag</source>
        <translation>가운데 버튼 드래그</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="54"/>
        <source>Wheel</source>
        <translation>휠</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="54"/>
        <source>Zoom to the cursor</source>
        <translation>커서 위치로 확대/축소</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="56"/>
        <source>Right-drag</source>
        <translation>오른쪽 드래그</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="57"/>
        <source>Erase with the current tool</source>
        <translation>현재 도구로 지우기</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="59"/>
        <source>Shift + drag</source>
        <translation>Shift + 드래그</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="59"/>
        <source>Square / circle</source>
        <translation>정사각형 / 원</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="61"/>
        <source>Hold C</source>
        <translation>C 누르고 있기</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="62"/>
        <source>Show the original (before)</source>
        <translation>원본 보기 (이전)</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="65"/>
        <source>Enter / double-click</source>
        <translation>Enter / 더블클릭</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="66"/>
        <source>Close the polygon</source>
        <translation>다각형 닫기</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="69"/>
        <source>Esc</source>
        <translation>Esc</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="70"/>
        <source>Drop the shape in progress / cancel a run</source>
        <translation>그리던 도형 버리기 / 실행 취소</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="80"/>
        <source>Keyboard shortcuts</source>
        <translation>단축키</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="89"/>
        <source>Keys</source>
        <translation>키</translation>
    </message>
    <message>
        <location filename="../dialogs.py" line="89"/>
        <source>Action</source>
        <translation>동작</translation>
    </message>
</context>
</TS>
